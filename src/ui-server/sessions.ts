import { GatewayError } from '../core/errors.js';
import { identify } from '../guard/stages.js';
import type { Identity } from '../guard/keys.js';
import type { KeyRecord } from '../guard/types.js';
import type { Stage } from '../server/lifecycle.js';
import type { RequestContext } from '../server/request-context.js';
import type { Runtime } from '../server/runtime.js';
import { sessionCookie } from './cookies.js';
import { sameText, SessionSigner, type SessionClaims } from './session-token.js';

/** Who signed in to the dashboard, as its session endpoints describe them. */
export interface SessionView {
  readonly role: 'master' | 'admin';
  readonly team_id: string | null;
  readonly key_id: string | null;
  readonly csrf_token: string;
  readonly expires_at: string;
}

const MASTER = 'master';

const signers = new WeakMap<Runtime, SessionSigner>();

/**
 * The session signer of a runtime: `ui.session_secret`, or a secret derived from the key pepper
 * (an HMAC of a fixed label), so that replicas sharing the pepper share sessions with no further
 * setting. Null while the governance store is not open (no pepper yet).
 */
export function signerFor(runtime: Runtime): SessionSigner | null {
  let signer = signers.get(runtime);
  if (signer !== undefined) return signer;
  const configured = runtime.config.ui.session_secret;
  const directory = runtime.governance?.directory;
  if (configured === undefined && directory === undefined) return null;
  signer = new SessionSigner(configured ?? directory!.hasher.hash('stellwerk dashboard session secret'));
  signers.set(runtime, signer);
  return signer;
}

/** Fingerprint of what a session is bound to: the master key itself, or an admin key's stored hash. */
export function fingerprintOf(signer: SessionSigner, identity: Identity, masterKey: string | undefined): string {
  if (identity.kind === 'key') return signer.fingerprint(`key:${identity.key.hash}`);
  return signer.fingerprint(`master:${masterKey ?? ''}`);
}

/** The subject a session names: `master` or the admin key's id. */
export function subjectOf(identity: Identity): string {
  return identity.kind === 'key' ? identity.key.id : MASTER;
}

/** An identity that may open a dashboard session: the master key, or an active admin key of a team. */
export function maySignIn(identity: Identity): boolean {
  if (identity.kind === 'master') return true;
  return identity.kind === 'key' && identity.key.role === 'admin' && identity.key.team_id !== null;
}

export function sessionView(identity: Identity, claims: SessionClaims): SessionView {
  const key = identity.kind === 'key' ? identity.key : null;
  return {
    role: key === null ? 'master' : 'admin',
    team_id: key?.team_id ?? null,
    key_id: key?.id ?? null,
    csrf_token: claims.csrf,
    expires_at: new Date(claims.expiresAt).toISOString(),
  };
}

const SESSION_ENDED = 'The dashboard session has expired or ended; sign in again.';

/**
 * The identity behind a session token, checked afresh on every request against the in-memory
 * key directory: a revoked, blocked, expired, demoted or rotated-away key, or a changed master
 * key, ends the session at once. Throws invalid_api_key otherwise (no store query).
 */
export function resolveSession(runtime: Runtime, token: string, now: number): { identity: Identity; claims: SessionClaims } {
  const signer = signerFor(runtime);
  const claims = signer?.verify(token, now) ?? null;
  if (signer === null || claims === null) throw new GatewayError('invalid_api_key', { message: SESSION_ENDED });
  if (claims.subject === MASTER) {
    const master = runtime.config.auth.master_key;
    if (master === undefined || !sameText(claims.fingerprint, signer.fingerprint(`master:${master}`))) {
      throw new GatewayError('invalid_api_key', { message: SESSION_ENDED });
    }
    return { identity: { kind: 'master' }, claims };
  }
  const directory = runtime.governance?.directory;
  const key = directory?.key(claims.subject) ?? null;
  if (key === null || !keyStillOpens(signer, key, claims.fingerprint, now)) throw new GatewayError('invalid_api_key', { message: SESSION_ENDED });
  const team = directory!.team(key.team_id);
  if (team !== null && team.state === 'blocked') throw new GatewayError('key_blocked', { message: 'The team of this admin key is blocked.' });
  const identity: Identity = { kind: 'key', key, team };
  if (!maySignIn(identity)) throw new GatewayError('invalid_api_key', { message: SESSION_ENDED });
  return { identity, claims };
}

function keyStillOpens(signer: SessionSigner, key: KeyRecord, fingerprint: string, now: number): boolean {
  if (key.state !== 'active') return false;
  if (key.expires_at !== null && key.expires_at <= now) return false;
  if (sameText(fingerprint, signer.fingerprint(`key:${key.hash}`))) return true;
  // Opened with the secret a rotation replaced: valid for as long as that secret is.
  return (
    key.previous_hash !== null &&
    key.previous_expires_at !== null &&
    key.previous_expires_at > now &&
    sameText(fingerprint, signer.fingerprint(`key:${key.previous_hash}`))
  );
}

/** A change made with a cookie must carry the session's CSRF token (a forged cross-site request cannot read it). */
export function requireCsrf(ctx: RequestContext, claims: SessionClaims): void {
  const method = ctx.req.method;
  if (method === 'GET' || method === 'HEAD') return;
  const given = ctx.req.headers['x-csrf-token'];
  if (typeof given !== 'string' || !sameText(given, claims.csrf)) throw new GatewayError('csrf_failed');
}

function presentsKey(ctx: RequestContext): boolean {
  return ctx.req.headers.authorization !== undefined || ctx.req.headers['x-api-key'] !== undefined;
}

/**
 * Who calls the admin API: a presented key (Authorization: Bearer or x-api-key) as for /v1, or
 * else the dashboard's session cookie, whose changes need the CSRF token. /v1 never reads the
 * cookie: its stage is `identify` alone.
 */
export const identifyAdminCaller: Stage = (ctx) => {
  const token = ctx.runtime.config.ui.enabled && !presentsKey(ctx) ? sessionCookie(ctx.req) : null;
  if (token === null) return identify(ctx);
  const { identity, claims } = resolveSession(ctx.runtime, token, Date.now());
  requireCsrf(ctx, claims);
  ctx.identity = identity;
};
