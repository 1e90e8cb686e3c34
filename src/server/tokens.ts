/**
 * Session tokens: `<expiry ms>.<HMAC-SHA256(secret, "<session>.<expiry>") base64url>`. The controller issues
 * one per negotiation (and per steering manifest, in RELOAD-URI); steering, leave and telemetry linking verify
 * it. The secret is `EDGEPLAY_SECRET` when set (every controller process sharing it accepts the others'
 * tokens), else random per process (tokens then do not survive a restart).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Why a token was refused, and the message the 403 carries. */
export type TokenRefusal = 'missing' | 'malformed' | 'invalid' | 'expired';

/** The result of `verify`: ok with the token's expiry (epoch ms), or the reason it was refused. */
export type TokenCheck = { ok: true; expires: number } | { ok: false; reason: TokenRefusal; message: string };

const refuse = (reason: TokenRefusal): TokenCheck => ({ ok: false, reason, message: `token ${reason}` });

export class TokenService {
  private readonly secret: string;

  /**
   * @param secret HMAC key (default: 32 random bytes, per process)
   * @param ttlMs how long an issued token stays valid (default one hour)
   */
  constructor(
    secret?: string,
    readonly ttlMs = 3600e3,
  ) {
    this.secret = secret ?? randomBytes(32).toString('hex');
  }

  private sign(session: string, expires: number): string {
    return createHmac('sha256', this.secret).update(`${session}.${expires}`).digest('base64url');
  }

  /** A token for `session`, valid until `now + ttlMs`. */
  issue(session: string, now = Date.now()): string {
    const expires = now + this.ttlMs;
    return `${expires}.${this.sign(session, expires)}`;
  }

  /** Check `token` (anything a client sent) for `session`; constant-time signature comparison. */
  verify(session: string, token: unknown, now = Date.now()): TokenCheck {
    if (typeof token !== 'string' || token === '') return refuse('missing');
    const dot = token.indexOf('.');
    const exp = dot > 0 ? token.slice(0, dot) : '';
    const sig = dot > 0 ? token.slice(dot + 1) : '';
    if (!exp || !sig || !/^\d{1,16}$/.test(exp)) return refuse('malformed');
    const expires = Number(exp);
    const want = Buffer.from(this.sign(session, expires));
    const got = Buffer.from(sig);
    if (want.length !== got.length || !timingSafeEqual(want, got)) return refuse('invalid');
    if (expires < now) return refuse('expired');
    return { ok: true, expires };
  }
}
