import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** What a dashboard session holds. */
export interface SessionClaims {
  /** `master`, or the id of the admin key that signed in. */
  readonly subject: string;
  /**
   * Binds the session to the secret that opened it (a keyed hash of the key's stored hash, or of
   * the master key): a rotated-away or changed secret ends its sessions.
   */
  readonly fingerprint: string;
  /** Epoch ms. */
  readonly expiresAt: number;
  /** The CSRF token changes need in `x-csrf-token`; random per session. */
  readonly csrf: string;
}

/**
 * Stateless session tokens: the claims as base64url JSON and their HMAC-SHA256 with a server
 * secret. Any replica with the same secret accepts them, and nothing is stored; what a stored
 * session would add (ending it at once) comes from checking the key on every request instead.
 */
export class SessionSigner {
  constructor(private readonly secret: string) {}

  issue(subject: string, fingerprint: string, expiresAt: number): { token: string; claims: SessionClaims } {
    const claims: SessionClaims = { subject, fingerprint, expiresAt, csrf: randomBytes(24).toString('base64url') };
    const payload = Buffer.from(JSON.stringify({ s: claims.subject, f: claims.fingerprint, e: claims.expiresAt, c: claims.csrf })).toString('base64url');
    return { token: `${payload}.${this.sign(payload)}`, claims };
  }

  /** The claims of a well-signed, unexpired token; null for anything else. */
  verify(token: string, now: number): SessionClaims | null {
    const dot = token.indexOf('.');
    if (dot <= 0 || token.length > 1024) return null;
    const payload = token.slice(0, dot);
    if (!sameText(token.slice(dot + 1), this.sign(payload))) return null;
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      return null;
    }
    const { s, f, e, c } = (parsed ?? {}) as Record<string, unknown>;
    if (typeof s !== 'string' || typeof f !== 'string' || typeof e !== 'number' || typeof c !== 'string') return null;
    if (e <= now) return null;
    return { subject: s, fingerprint: f, expiresAt: e, csrf: c };
  }

  /** A keyed hash of a secret (or of a key's stored hash), short enough for a cookie. */
  fingerprint(value: string): string {
    return createHmac('sha256', this.secret).update('fingerprint\0').update(value).digest('base64url').slice(0, 22);
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.secret).update('session\0').update(payload).digest('base64url');
  }
}

/** Constant-time comparison of two strings (false at once when their lengths differ). */
export function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
