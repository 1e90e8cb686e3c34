/**
 * Session tokens with key ids (RFC 7515 §4.1.4's `kid`, in a compact form of our own):
 * `<kid>.<expiry ms>.<HMAC-SHA256(key[kid], "<kid>.<session>.<expiry>") base64url>`. The controller issues one
 * per negotiation (and per steering manifest, in RELOAD-URI); steering, leave, tasks and telemetry linking
 * verify it. A token is bound to its session (the session id is under the MAC: it verifies for no other
 * session) and expires (`ttlMs`, default one hour).
 *
 * Several signing keys are valid at once, so keys rotate without logging anyone out: the first key signs, every
 * key listed verifies the tokens signed with it, and a token whose key has been retired (removed from the list)
 * or was never ours is refused as `unknown_kid` (401). Rolling a new key over a fleet: add it at the end on every
 * process (it verifies, nobody signs with it yet), then move it first (it signs), then remove the old key once a
 * token TTL has passed. Keys come from `--keys-file` / `EDGEPLAY_KEYS` (`parseSigningKeys`), or one secret
 * (`EDGEPLAY_SECRET`, its kid derived from it so every process sharing it agrees), else one random key per
 * process (its tokens then do not survive a restart). Tokens of the format before key ids (`<expiry>.<sig>`)
 * still verify against any key's secret until they expire (`verifyLegacy`), so the upgrade logs nobody out.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Why a token was refused. */
export type TokenRefusal = 'missing' | 'malformed' | 'unknown_kid' | 'invalid' | 'expired';

/** The result of `verify`: ok with the token's key id and expiry (epoch ms), or the reason it was refused and the message the 4xx carries. */
export type TokenCheck = { ok: true; kid: string; expires: number } | { ok: false; reason: TokenRefusal; message: string };

/** One HMAC signing key: its id (carried in every token it signs) and its secret. */
export interface SigningKey {
  /** 1–32 characters of [A-Za-z0-9_-] */
  kid: string;
  /** at least 16 characters */
  secret: string;
}

const KID = /^[A-Za-z0-9_-]{1,32}$/;
const MIN_SECRET = 16;

/** The HTTP status a refusal is answered with: 401 for a key we do not hold (re-authenticate: negotiate again), 403 otherwise. */
export const refusalStatus = (reason: TokenRefusal): 401 | 403 => (reason === 'unknown_kid' ? 401 : 403);

/** The `error` word of a refusal's answer: 'unauthorized' (401) or 'forbidden' (403). */
export const refusalError = (reason: TokenRefusal) => (reason === 'unknown_kid' ? 'unauthorized' : 'forbidden');

/** The key id of a lone secret (EDGEPLAY_SECRET): the first 8 hex digits of its SHA-256, the same in every process. */
export const kidOf = (secret: string) => `s${createHash('sha256').update(secret).digest('hex').slice(0, 8)}`;

/**
 * Parse a key list: `kid=secret` entries separated by commas or newlines (blank lines and `#` comments skipped),
 * the first one signing. @throws Error naming the entry for a bad kid, a secret shorter than 16 characters, a
 * duplicated kid, or an empty list
 */
export function parseSigningKeys(text: string): SigningKey[] {
  const keys: SigningKey[] = [];
  for (const raw of text.split(/[,\n]/)) {
    const entry = raw.trim();
    if (!entry || entry.startsWith('#')) continue;
    const eq = entry.indexOf('=');
    const kid = eq > 0 ? entry.slice(0, eq).trim() : '';
    const secret = eq > 0 ? entry.slice(eq + 1).trim() : '';
    if (!KID.test(kid)) throw new Error(`signing key '${entry.slice(0, 40)}': want kid=secret with a kid of 1–32 [A-Za-z0-9_-]`);
    if (secret.length < MIN_SECRET) throw new Error(`signing key '${kid}': the secret must be at least ${MIN_SECRET} characters`);
    if (keys.some((k) => k.kid === kid)) throw new Error(`signing key '${kid}' is listed twice`);
    keys.push({ kid, secret });
  }
  if (!keys.length) throw new Error('no signing key in the list (want kid=secret[,kid=secret…], the first signs)');
  return keys;
}

export class TokenService {
  private readonly keys: Map<string, string>;
  /** the key id new tokens are signed with */
  readonly signingKid: string;

  /**
   * @param keys the signing keys, the first one signing (a lone string: one secret, its kid `kidOf(secret)`;
   *   default one random key per process)
   * @param ttlMs how long an issued token stays valid (default one hour)
   * @throws Error for an empty key list, a bad kid, a duplicated kid
   */
  constructor(
    keys?: string | SigningKey[],
    readonly ttlMs = 3600e3,
  ) {
    const list: SigningKey[] =
      typeof keys === 'string'
        ? [{ kid: kidOf(keys), secret: keys }]
        : (keys ?? [{ kid: `r${randomBytes(4).toString('hex')}`, secret: randomBytes(32).toString('hex') }]);
    if (!list.length) throw new Error('TokenService: no signing key');
    this.keys = new Map();
    for (const k of list) {
      if (!KID.test(k.kid)) throw new Error(`TokenService: bad key id '${k.kid}' (1–32 of [A-Za-z0-9_-])`);
      if (this.keys.has(k.kid)) throw new Error(`TokenService: key id '${k.kid}' listed twice`);
      this.keys.set(k.kid, k.secret);
    }
    this.signingKid = list[0].kid;
  }

  /** the key ids this service verifies, the signing one first */
  get kids(): string[] {
    return [...this.keys.keys()];
  }

  private sign(secret: string, kid: string, session: string, expires: number): string {
    return createHmac('sha256', secret).update(`${kid}.${session}.${expires}`).digest('base64url');
  }

  /** A token for `session`, signed with the first key, valid until `now + ttlMs`. */
  issue(session: string, now = Date.now()): string {
    const expires = now + this.ttlMs;
    const kid = this.signingKid;
    return `${kid}.${expires}.${this.sign(this.keys.get(kid)!, kid, session, expires)}`;
  }

  /** Check `token` (anything a client sent) for `session`; constant-time signature comparison. */
  verify(session: string, token: unknown, now = Date.now()): TokenCheck {
    if (typeof token !== 'string' || token === '') return { ok: false, reason: 'missing', message: 'token missing' };
    const parts = token.split('.');
    const refuse = (reason: TokenRefusal, message = `token ${reason}`): TokenCheck => ({ ok: false, reason, message });
    if (parts.length === 2 && /^\d{1,16}$/.test(parts[0]) && parts[1]) return this.verifyLegacy(session, parts[0], parts[1], now);
    if (parts.length !== 3 || !KID.test(parts[0]) || !/^\d{1,16}$/.test(parts[1]) || !parts[2])
      return refuse('malformed', 'token malformed (want <kid>.<expiry>.<signature>)');
    const [kid, exp, sig] = parts;
    const secret = this.keys.get(kid);
    if (secret === undefined)
      return refuse('unknown_kid', `token key id '${kid}' unknown: its key was retired or is not ours (negotiate again)`);
    const expires = Number(exp);
    const want = Buffer.from(this.sign(secret, kid, session, expires));
    const got = Buffer.from(sig);
    if (want.length !== got.length || !timingSafeEqual(want, got))
      return refuse('invalid', 'token invalid (not for this session, or forged)');
    if (expires < now) return refuse('expired');
    return { ok: true, kid, expires };
  }

  /**
   * The format before key ids (`<expiry>.<HMAC-SHA256(secret, "<session>.<expiry>")>`), accepted against every
   * key's secret until it expires, so a fleet upgraded to key ids logs nobody out: those tokens were issued
   * for at most one TTL, and the controller answers every verified request with tokens of the new format.
   */
  private verifyLegacy(session: string, exp: string, sig: string, now: number): TokenCheck {
    const expires = Number(exp);
    const got = Buffer.from(sig);
    for (const [kid, secret] of this.keys) {
      const want = Buffer.from(createHmac('sha256', secret).update(`${session}.${expires}`).digest('base64url'));
      if (want.length !== got.length || !timingSafeEqual(want, got)) continue;
      if (expires < now) return { ok: false, reason: 'expired', message: 'token expired' };
      return { ok: true, kid, expires };
    }
    return { ok: false, reason: 'invalid', message: 'token invalid (not for this session, or forged)' };
  }
}
