import type { IncomingMessage } from 'node:http';

export const SESSION_COOKIE = 'stellwerk_session';

/**
 * The session cookie's value from a Cookie header. Only one cookie is ever read, so a few lines
 * do rather than a cookie library; values are opaque base64url tokens, never decoded here.
 */
export function sessionCookie(req: IncomingMessage): string | null {
  const header = req.headers.cookie;
  if (header === undefined) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    return value.length > 0 ? value : null;
  }
  return null;
}

/** Whether the request reached us over TLS, directly or through a proxy that says so. */
export function cameOverTls(req: IncomingMessage): boolean {
  if ((req.socket as { encrypted?: boolean }).encrypted === true) return true;
  const forwarded = req.headers['x-forwarded-proto'];
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim().toLowerCase();
  return first === 'https';
}

/** Set-Cookie for a session: never readable by scripts, never sent cross-site, Secure over TLS. */
export function sessionSetCookie(token: string, maxAgeSeconds: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`;
}

export function clearSessionCookie(secure: boolean): string {
  return sessionSetCookie('', 0, secure);
}
