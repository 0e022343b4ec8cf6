import { createPrivateKey, createSign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { GatewayError } from '../../core/errors.js';
import type { Timeouts } from '../../config/deployment-base.js';
import { UpstreamClient } from '../http/upstream-client.js';
import { scrub } from '../http/upstream-errors.js';
import type { UpstreamCall } from '../types.js';
import { abortReason, untilAborted } from '../http/abort.js';

/**
 * Vertex AI's auth with a service account key: a JWT signed RS256 with the account's private
 * key is exchanged at the key's `token_uri` for an OAuth2 access token (Google's "JWT bearer"
 * flow), which is sent as `Authorization: Bearer …` until shortly before it expires. One refresh
 * runs at a time however many requests wait for it.
 */

export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
export const GOOGLE_TOKEN_URI = 'https://oauth2.googleapis.com/token';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** Google accepts assertions valid for at most an hour. */
const ASSERTION_LIFETIME_S = 3600;
/** Refresh this long before expiry (or halfway, for short-lived tokens), so no request carries a token about to lapse. */
const REFRESH_MARGIN_S = 300;

export interface ServiceAccount {
  readonly clientEmail: string;
  readonly privateKey: KeyObject;
  readonly privateKeyId: string | null;
  readonly tokenUri: string;
  readonly projectId: string | null;
}

export interface CredentialSources {
  readonly credentials_file?: string | undefined;
  readonly credentials_json?: string | Record<string, unknown> | undefined;
}

/**
 * The service account of a deployment: `credentials_json`, else `credentials_file`, else the
 * file GOOGLE_APPLICATION_CREDENTIALS names. A problem is returned as text (the deployment is
 * then unusable, with that reason) and never contains the key.
 */
export function loadServiceAccount(sources: CredentialSources, env: NodeJS.ProcessEnv = process.env): ServiceAccount | string {
  let text: string | Record<string, unknown>;
  let origin: string;
  if (sources.credentials_json !== undefined) {
    text = sources.credentials_json;
    origin = 'credentials_json';
  } else {
    const file = sources.credentials_file ?? env.GOOGLE_APPLICATION_CREDENTIALS;
    if (file === undefined || file === '') return 'no credentials: set credentials_file, credentials_json or GOOGLE_APPLICATION_CREDENTIALS';
    origin = sources.credentials_file !== undefined ? `credentials_file ${file}` : `GOOGLE_APPLICATION_CREDENTIALS (${file})`;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      return `${origin} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`;
    }
  }
  return parseServiceAccount(text, origin);
}

function parseServiceAccount(text: string | Record<string, unknown>, origin: string): ServiceAccount | string {
  let json: unknown = text;
  if (typeof text === 'string') {
    try {
      json = JSON.parse(text);
    } catch {
      return `${origin} is not JSON`;
    }
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return `${origin} is not a JSON object`;
  const fields = json as Record<string, unknown>;
  if (fields.type !== undefined && fields.type !== 'service_account') {
    return `${origin} holds credentials of type "${String(fields.type)}"; only service account keys (type "service_account") are supported`;
  }
  if (typeof fields.client_email !== 'string' || fields.client_email === '') return `${origin} has no client_email`;
  if (typeof fields.private_key !== 'string' || fields.private_key === '') return `${origin} has no private_key`;
  const tokenUri = typeof fields.token_uri === 'string' && fields.token_uri !== '' ? fields.token_uri : GOOGLE_TOKEN_URI;
  if (!/^https?:\/\//.test(tokenUri)) return `${origin} has a token_uri that is not an http(s) URL`;
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(fields.private_key);
  } catch {
    return `${origin} has a private_key that is not a valid PEM key`;
  }
  return {
    clientEmail: fields.client_email,
    privateKey,
    privateKeyId: typeof fields.private_key_id === 'string' ? fields.private_key_id : null,
    tokenUri,
    projectId: typeof fields.project_id === 'string' && fields.project_id !== '' ? fields.project_id : null,
  };
}

/** The signed assertion the token endpoint exchanges for an access token. */
export function signAssertion(account: ServiceAccount, nowSeconds: number): string {
  const header: Record<string, string> = { alg: 'RS256', typ: 'JWT' };
  if (account.privateKeyId !== null) header.kid = account.privateKeyId;
  const claims = {
    iss: account.clientEmail,
    scope: CLOUD_PLATFORM_SCOPE,
    aud: account.tokenUri,
    iat: nowSeconds,
    exp: nowSeconds + ASSERTION_LIFETIME_S,
  };
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const signature = createSign('RSA-SHA256').update(signingInput).sign(account.privateKey);
  return `${signingInput}.${signature.toString('base64url')}`;
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

interface CachedToken {
  readonly token: string;
  /** Epoch ms after which the token is no longer valid. */
  readonly expiresAt: number;
  /** Epoch ms from which a new one is fetched. */
  readonly refreshAt: number;
}

export interface TokenSourceOptions {
  readonly timeouts: Timeouts;
  /** Epoch ms; tests move time. */
  readonly now?: () => number;
}

/** Access tokens for one service account: cached, refreshed shortly before expiry, one refresh at a time. */
export class ServiceAccountTokens {
  private cached: CachedToken | null = null;
  private refreshing: Promise<CachedToken> | null = null;
  private readonly client: UpstreamClient;
  private readonly path: string;
  private readonly now: () => number;
  private readonly timeoutMs: number;

  constructor(
    private readonly account: ServiceAccount,
    options: TokenSourceOptions,
  ) {
    const url = new URL(account.tokenUri);
    this.path = url.pathname + url.search;
    this.now = options.now ?? Date.now;
    this.timeoutMs = options.timeouts.first_byte_ms;
    this.client = new UpstreamClient({
      baseUrl: url.origin,
      timeouts: options.timeouts,
      connections: 2,
      secrets: [],
      statusError: (status, headers, text) => this.refused(status, headers, text),
    });
  }

  /** The current token, if any: scrubbed from upstream errors like a key. */
  current(): string[] {
    return this.cached === null ? [] : [this.cached.token];
  }

  /** Forgets the cached token (Vertex refused it: revoked, or the clock was off), so the next request fetches one. */
  invalidate(): void {
    this.cached = null;
  }

  /** A valid access token; waits for a refresh when needed, but no longer than the caller's call. */
  async token(call: UpstreamCall): Promise<string> {
    const now = this.now();
    const cached = this.cached;
    if (cached !== null && now < cached.refreshAt) return cached.token;
    this.refreshing ??= this.fetchToken().finally(() => {
      this.refreshing = null;
    });
    try {
      const fresh = await untilAborted(this.refreshing, call.signal);
      return fresh.token;
    } catch (error) {
      // A failed refresh while the old token still lives is no reason to fail the request.
      if (cached !== null && this.now() < cached.expiresAt && !call.signal.aborted) return cached.token;
      throw error;
    }
  }

  close(): Promise<void> {
    return this.client.close();
  }

  private async fetchToken(): Promise<CachedToken> {
    const issuedAt = this.now();
    const assertion = signAssertion(this.account, Math.floor(issuedAt / 1000));
    const body = new URLSearchParams({ grant_type: JWT_BEARER, assertion }).toString();
    // The refresh serves every waiting request, so it has its own deadline rather than one request's signal.
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new GatewayError('upstream_timeout', { message: `The OAuth token endpoint did not answer within ${this.timeoutMs} ms.` })),
      this.timeoutMs,
    );
    timer.unref();
    const call: UpstreamCall = { signal: controller.signal, requestId: 'oauth-token', forwardHeaders: {} };
    try {
      const headers = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
      const { value } = await this.client.requestJson<{ access_token?: unknown; expires_in?: unknown }>({ method: 'POST', path: this.path, headers, body }, call);
      if (typeof value.access_token !== 'string' || value.access_token === '') {
        throw new GatewayError('upstream_error', { message: 'The OAuth token endpoint answered without an access_token.' });
      }
      const lifetime = typeof value.expires_in === 'number' && value.expires_in > 0 ? value.expires_in : ASSERTION_LIFETIME_S;
      const margin = Math.min(REFRESH_MARGIN_S, lifetime / 2);
      const token = { token: value.access_token, expiresAt: issuedAt + lifetime * 1000, refreshAt: issuedAt + (lifetime - margin) * 1000 };
      this.cached = token;
      return token;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The token endpoint said no: the deployment's credentials are at fault, never the client's request. */
  private refused(status: number, _headers: IncomingHttpHeaders, text: string): GatewayError {
    let reason = '';
    try {
      const body = JSON.parse(text) as { error?: unknown; error_description?: unknown };
      const parts = [body.error, body.error_description].filter((part): part is string => typeof part === 'string' && part !== '');
      reason = parts.length > 0 ? `: ${scrub(parts.join(': '), []).slice(0, 500)}` : '';
    } catch {
      // not JSON: the status says enough
    }
    return new GatewayError('upstream_error', {
      message: `The OAuth token endpoint refused the service account ${this.account.clientEmail} (HTTP ${status}${reason}).`,
      upstreamStatus: status >= 500 ? status : undefined,
    });
  }
}
