import { z } from 'zod';
import { GatewayError } from '../core/errors.js';
import { KEY_PREFIX, type Identity } from '../guard/keys.js';
import { readJson } from '../server/body.js';
import type { RequestContext } from '../server/request-context.js';
import { sendJson } from '../server/respond.js';
import { cameOverTls, clearSessionCookie, sessionCookie, sessionSetCookie } from './cookies.js';
import { fingerprintOf, maySignIn, requireCsrf, resolveSession, sessionView, signerFor, subjectOf } from './sessions.js';

const signInSchema = z.strictObject({ key: z.string().min(1).max(512) });

const NOT_STORED = { 'cache-control': 'no-store' };

/** /ui/session: sign in (POST), who am I (GET), sign out (DELETE). */
export async function sessionEndpoint(ctx: RequestContext): Promise<void> {
  switch (ctx.req.method) {
    case 'POST':
      return signIn(ctx);
    case 'GET':
    case 'HEAD':
      return current(ctx);
    case 'DELETE':
      return signOut(ctx);
    default:
      throw new GatewayError('method_not_allowed', { message: 'Use POST, GET or DELETE here.', headers: { allow: 'POST, GET, DELETE' } });
  }
}

async function signIn(ctx: RequestContext): Promise<void> {
  // A cross-site form cannot send JSON without a CORS preflight, which this server never grants.
  const type = ctx.req.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) {
    throw new GatewayError('invalid_request', { message: 'Send the key as JSON: {"key": "…"} with content-type application/json.' });
  }
  const { value } = await readJson(ctx.req, 16 * 1024);
  const parsed = signInSchema.safeParse(value);
  if (!parsed.success) throw new GatewayError('invalid_request', { message: 'Send {"key": "<master key or admin key>"}.', param: 'key' });
  const runtime = ctx.runtime;
  const signer = signerFor(runtime);
  if (signer === null) throw new GatewayError('route_not_found', { message: 'Dashboard sessions are not available: governance is off.' });
  const identity = identityOf(ctx, parsed.data.key);
  if (!maySignIn(identity)) {
    throw new GatewayError('invalid_api_key', { message: 'The dashboard accepts the master key or an admin key of a team.' });
  }
  const now = Date.now();
  const ttl = runtime.config.ui.session_ttl_ms;
  const { token, claims } = signer.issue(subjectOf(identity), fingerprintOf(signer, identity, runtime.config.auth.master_key), now + ttl);
  const cookie = sessionSetCookie(token, Math.floor(ttl / 1000), cameOverTls(ctx.req));
  sendJson(ctx, 200, JSON.stringify(sessionView(identity, claims)), { ...NOT_STORED, 'set-cookie': cookie });
}

function identityOf(ctx: RequestContext, key: string): Identity {
  const runtime = ctx.runtime;
  if (runtime.isMasterKey(key)) return { kind: 'master' };
  const directory = runtime.governance?.directory;
  if (directory === undefined || !key.startsWith(KEY_PREFIX)) throw new GatewayError('invalid_api_key');
  return directory.resolve(key, Date.now());
}

function current(ctx: RequestContext): void {
  const token = sessionCookie(ctx.req);
  if (token === null) throw new GatewayError('invalid_api_key', { message: 'Not signed in to the dashboard.' });
  const { identity, claims } = resolveSession(ctx.runtime, token, Date.now());
  sendJson(ctx, 200, JSON.stringify(sessionView(identity, claims)), NOT_STORED);
}

/**
 * Clears the cookie. Sessions are stateless, so this forgets the token in this browser; a copy
 * of it elsewhere lasts until it expires or its key is revoked (docs/dashboard.md).
 */
function signOut(ctx: RequestContext): void {
  const token = sessionCookie(ctx.req);
  if (token === null) throw new GatewayError('invalid_api_key', { message: 'Not signed in to the dashboard.' });
  const { claims } = resolveSession(ctx.runtime, token, Date.now());
  requireCsrf(ctx, claims);
  ctx.status = 204;
  ctx.headers.writeHead(ctx.res, 204, { ...NOT_STORED, 'set-cookie': clearSessionCookie(cameOverTls(ctx.req)) });
  ctx.res.end();
}
