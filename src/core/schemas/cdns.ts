/**
 * `GET /v1/cdns` (multi-CDN scheduling, server/cdns.ts): each CDN's share of new viewers and its measured
 * workload and QoE per step (LTS definitions: SLatency s, BufRatio and BufFreq per 100 s watched).
 */
import { Type, type Static } from 'typebox';
import { Nullable } from './helpers.js';

const Nums = Type.Array(Type.Number());

export const CdnStepSchema = Type.Object({
  /** ⌊epoch ms / step_ms⌋ of the step measured */
  step: Type.Integer(),
  /** mean concurrent viewers per CDN */
  workload: Nums,
  slatency: Nums,
  bufratio: Nums,
  buffreq: Nums,
  /**
   * failure incidents per CDN in the step (failed requests, viewers who left the CDN's pathway): already
   * folded into bufratio / buffreq above as stalls (server/cdns.ts FAILURE_STALL_S); absent in older histories
   */
  failures: Type.Optional(Nums),
  /** shares (fractions) in force during the step */
  shares: Nums,
  /** shares decided for the next step */
  next: Nums,
});
export type CdnStep = Static<typeof CdnStepSchema>;

export const CdnsAnswerSchema = Type.Object({
  step_ms: Type.Integer(),
  /** the policy deciding the shares */
  policy: Type.String(),
  /** whether this controller process decided the last step (the leader) */
  leader: Type.Boolean(),
  cdns: Type.Array(
    Type.Object({
      id: Type.String(),
      url: Type.String(),
      /** share of new viewers now (fraction) */
      share: Type.Number(),
      /** the last measured step (null before the first) */
      workload: Nullable(Type.Number()),
      slatency: Nullable(Type.Number()),
      bufratio: Nullable(Type.Number()),
      buffreq: Nullable(Type.Number()),
    }),
  ),
  /** the steps measured so far, oldest first, arrays in `cdns` order */
  history: Type.Array(CdnStepSchema),
});
export type CdnsAnswer = Static<typeof CdnsAnswerSchema>;
