import type { IncomingHttpHeaders } from 'node:http';
import { GatewayError } from '../../core/errors.js';
import type { Timeouts } from '../../config/deployment-base.js';
import { UpstreamClient } from '../http/upstream-client.js';
import { scrub } from '../http/upstream-errors.js';
import type { UpstreamCall } from '../types.js';
import type { EntraSettings } from './config.js';
import { abortReason, untilAborted, type AbortLike } from '../http/abort.js';

interface CachedToken {
  readonly token: string;
  /** From here on the next request fetches a new token (while this one still works). */
  readonly refreshAt: number;
  /** After this the token is not used any more, even when a new one cannot be had. */
  readonly usableUntil: number;
}

export interface EntraTokenOptions {
  readonly settings: EntraSettings;
  readonly timeouts: Timeouts;
  /** The clock, in milliseconds; tests move it. */
  readonly now?: () => number;
}

/** Tokens are not used in their last seconds, so that one does not expire while a request travels. */
const EXPIRY_SLACK_MS = 10_000;
const MAX_DESCRIPTION = 300;

/**
 * Microsoft Entra ID access tokens for one app registration, by the OAuth 2.0 client-credentials
 * flow. A token is kept until shortly before it expires (`refresh_before_s`, at most halfway
 * through its life); then the next request fetches a new one. Concurrent requests share one fetch.
 * When a fetch fails while the old token is still valid, the old one is used and the next request
 * tries again; when no valid token is left, the failure reaches the client as `upstream_error`.
 */
export class EntraTokenSource {
  private readonly client: UpstreamClient;
  private readonly path: string;
  private readonly body: string;
  private readonly now: () => number;
  private readonly fetchTimeoutMs: number;
  private cached: CachedToken | null = null;
  private pending: Promise<CachedToken> | null = null;
  /** How many tokens were fetched: for tests and diagnostics. */
  fetches = 0;

  constructor(private readonly options: EntraTokenOptions) {
    const { settings, timeouts } = options;
    this.now = options.now ?? Date.now;
    this.fetchTimeoutMs = Math.min(timeouts.first_byte_ms, 30_000) + timeouts.connect_ms;
    this.client = new UpstreamClient({
      baseUrl: settings.authority_host,
      timeouts,
      connections: 2,
      secrets: [settings.client_secret],
      statusError: (status, headers, text, secrets) => tokenStatusError(status, headers, text, secrets),
    });
    this.path = `/${encodeURIComponent(settings.tenant_id)}/oauth2/v2.0/token`;
    this.body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: settings.client_id,
      client_secret: settings.client_secret,
      scope: settings.scope,
    }).toString();
  }

  /** A valid access token; waits for a fetch only when the cached one is due (or there is none). */
  async token(signal: AbortLike): Promise<string> {
    const cached = this.cached;
    if (cached !== null && this.now() < cached.refreshAt) return cached.token;
    try {
      return (await untilAborted(this.refresh(), signal)).token;
    } catch (error) {
      if (signal.aborted) throw error;
      const fallback = this.cached;
      if (fallback !== null && this.now() < fallback.usableUntil) return fallback.token;
      throw error;
    }
  }

  close(): Promise<void> {
    return this.client.close();
  }

  /** One fetch at a time: whoever asks while one is under way waits for the same answer. */
  private refresh(): Promise<CachedToken> {
    this.pending ??= this.fetchToken().then(
      (token) => {
        this.cached = token;
        this.pending = null;
        return token;
      },
      (error: unknown) => {
        this.pending = null;
        throw error;
      },
    );
    return this.pending;
  }

  private async fetchToken(): Promise<CachedToken> {
    this.fetches++;
    // The fetch serves many requests, so no single client's abort may cancel it; it has its own deadline.
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.fetchTimeoutMs);
    const call: UpstreamCall = { signal: controller.signal, requestId: 'entra-token', forwardHeaders: {} };
    const startedAt = this.now();
    try {
      const { value } = await this.client.requestJson<Record<string, unknown>>(
        {
          method: 'POST',
          path: this.path,
          headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          body: this.body,
        },
        call,
      );
      return this.cache(value, startedAt);
    } catch (error) {
      throw this.fetchFailure(error, controller.signal.aborted);
    } finally {
      clearTimeout(timer);
    }
  }

  private cache(value: Record<string, unknown>, startedAt: number): CachedToken {
    const token = value.access_token;
    const lifetimeS = Number(value.expires_in);
    if (typeof token !== 'string' || token.length === 0 || !Number.isFinite(lifetimeS) || lifetimeS <= 0) {
      throw new GatewayError('upstream_bad_response', {
        message: 'The Entra ID token endpoint answered without an access_token and expires_in.',
      });
    }
    const lifetimeMs = lifetimeS * 1_000;
    const margin = Math.min(this.options.settings.refresh_before_s * 1_000, lifetimeMs / 2);
    // Counted from when the request left, so that the token's age is never underestimated.
    return {
      token,
      refreshAt: startedAt + lifetimeMs - margin,
      usableUntil: startedAt + lifetimeMs - Math.min(EXPIRY_SLACK_MS, lifetimeMs / 4),
    };
  }

  private fetchFailure(error: unknown, timedOut: boolean): GatewayError {
    if (timedOut) {
      return new GatewayError('upstream_error', {
        message: `The Entra ID token endpoint did not answer within ${this.fetchTimeoutMs} ms.`,
        cause: error,
      });
    }
    if (error instanceof EntraRefusal) return error;
    const reason = error instanceof GatewayError ? error.message : 'the request failed';
    return new GatewayError('upstream_error', { message: `Could not get an Entra ID token: ${reason}`, cause: error });
  }
}

/** Entra's own answer to the token request; its message says all there is to say. */
class EntraRefusal extends GatewayError {}

/** Entra's error body: `{"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret…"}`. */
function tokenStatusError(status: number, _headers: IncomingHttpHeaders, text: string, secrets: readonly string[]): GatewayError {
  let detail = '';
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    const code = typeof body.error === 'string' ? body.error : '';
    // The description's first line names the problem; the rest is trace and correlation ids.
    const description = typeof body.error_description === 'string' ? body.error_description.split(/\r?\n/)[0]! : '';
    detail = [code, description].filter((part) => part.length > 0).join(': ');
  } catch {
    detail = text.trim().slice(0, MAX_DESCRIPTION);
  }
  const suffix = detail.length > 0 ? `: ${scrub(detail, secrets).slice(0, MAX_DESCRIPTION)}` : '';
  return new EntraRefusal('upstream_error', {
    message: `Entra ID refused the deployment's token request (HTTP ${status})${suffix}`,
  });
}
