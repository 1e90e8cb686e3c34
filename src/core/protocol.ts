/**
 * The wire protocol between the SDK and the edge controller, as the browser sees it: the constants
 * (core/schemas/common.ts), the types derived from the TypeBox schemas (core/schemas/telemetry.ts,
 * negotiate.ts — re-exported here as types only, so TypeBox never lands in the browser bundle) and
 * `sanitizeData`. The controller and tests import the schemas themselves from core/schemas/.
 */
import { DATA_KEY_PATTERN, LIMITS, type EventData, type EventValue } from './schemas/common.js';

export {
  DATA_KEY_PATTERN,
  DEVICES,
  EVENT_TYPES,
  LIMITS,
  NAME_PATTERN,
  PROTOCOL_VERSION,
  type Device,
  type EventData,
  type EventType,
  type EventValue,
} from './schemas/common.js';
export type { TelemetryAck, TelemetryBatch, TelemetryEvent } from './schemas/telemetry.js';
export type {
  Assignment,
  NegotiateAnswer,
  NegotiateRequest,
  PathwayClone,
  RenditionRef,
  SteeringManifest,
  SteeringQuery,
  VariantRef,
} from './schemas/negotiate.js';

const KEY_RE = new RegExp(DATA_KEY_PATTERN);

/**
 * Make app-supplied event data valid for the schema instead of letting one bad field get a whole batch
 * rejected: keys normalised to snake_case (invalid ones dropped), values reduced to primitives,
 * strings truncated, at most `maxDataKeys` keys.
 */
export function sanitizeData(data: Record<string, unknown>): EventData {
  const out: EventData = {};
  let n = 0;
  for (const [k0, v] of Object.entries(data)) {
    if (n >= LIMITS.maxDataKeys) break;
    const k = k0
      .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
      .toLowerCase()
      .replace(/[^a-z0-9_]/g, '_')
      .slice(0, 32);
    if (!KEY_RE.test(k) || k === '__proto__' || k === 'constructor' || k === 'prototype') continue;
    let val: EventValue;
    if (v === null || typeof v === 'boolean') val = v;
    else if (typeof v === 'number') val = Number.isFinite(v) ? v : null;
    else if (typeof v === 'string') val = v.slice(0, LIMITS.maxStringLength);
    else if (v === undefined) continue;
    else {
      let s: string;
      try {
        s = JSON.stringify(v) ?? String(v);
      } catch {
        s = String(v);
      }
      val = s.slice(0, LIMITS.maxStringLength);
    }
    out[k] = val;
    n++;
  }
  return out;
}
