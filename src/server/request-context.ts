import type { IncomingMessage, ServerResponse } from 'node:http';
import { uuid7 } from '../core/uuid7.js';
import { GatewayError } from '../core/errors.js';
import type { Usage } from '../core/types.js';
import type { Deployment } from '../routing/deployment.js';
import type { ModelAlias } from '../routing/model-alias.js';
import type { EventStream, Parsed } from '../providers/types.js';
import type { AnthropicRequestNotes } from '../protocols/anthropic/translate-request.js';
import type { Runtime } from './runtime.js';
import type { Attempt } from './attempt.js';
import type { Identity } from '../guard/keys.js';
import type { Reservation } from '../guard/limits/types.js';
import type { PiiReport } from '../guard/pii/guard.js';
import type { RequestAccounting } from '../accounting/request.js';
import type { BodyCapture } from '../audit/body-log.js';
import type { RequestTrace } from '../telemetry/tracing.js';
import { ResponseHeaders } from './response-headers.js';

const ANONYMOUS: Identity = Object.freeze({ kind: 'anonymous' });

const REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** What the upstream gave: a whole answer, or a stream that has started. */
export type UpstreamResult =
  | { readonly kind: 'json'; readonly parsed: Parsed<unknown> }
  | { readonly kind: 'stream'; readonly events: EventStream<unknown> };

/**
 * Everything one request carries through its stages. One object per request with every field
 * set in the constructor (one hidden class for V8); stages fill in what they learn.
 */
export class RequestContext {
  readonly id: string;
  /** Whether the client chose the id (x-request-id); otherwise it is a fresh time-ordered UUID, unique. */
  readonly idGiven: boolean;
  readonly startedAt: number;
  /** True once the client has left before the answer was complete. */
  clientGone = false;
  private controller: AbortController | null = null;
  private onClientGone: (() => void) | null = null;

  /** The parsed JSON body. */
  body: unknown = undefined;
  /** Its size in bytes (a cheap measure of the prompt for routing estimates). */
  bodyBytes = 0;
  /** The `model` the client asked for. */
  model = '';
  stream = false;
  /** The client asked for the usage chunk of a stream (`stream_options.include_usage`). */
  clientWantsUsage = false;
  /** Set by the Anthropic ingress: what answering in Anthropic's shape needs from the request. */
  anthropic: AnthropicRequestNotes | null = null;
  /** Who is asking: set by the identify stage. */
  identity: Identity = ANONYMOUS;
  /** Limits and budget reserved for this request, settled at its end. */
  reservation: Reservation | null = null;
  /** What the privacy guard found (counts per type, never values) and the placeholders to restore. */
  pii: PiiReport | null = null;
  /** The alias the client asked for. */
  alias: ModelAlias | null = null;
  /** The deployment of the current (in the end: the last) attempt. */
  deployment: Deployment | null = null;
  /** The upstream call under way, until its last byte. */
  attempt: Attempt | null = null;
  /** Attempts made (1 without retries). */
  attempts = 0;
  /** Each finished attempt: where it went, how it ended ('ok' or the error code), the upstream's status when one came, how long it took. */
  readonly attemptLog: { deployment: string; outcome: string; status: number | null; ms: number }[] = [];
  /** The fallback alias that answered, when it was not the requested one. */
  fallback: ModelAlias | null = null;
  result: UpstreamResult | null = null;
  usage: Usage | null = null;
  /** The HTTP status sent, or 499 when the client left first. */
  status = 0;
  error: GatewayError | null = null;
  /** Milliseconds from the start to the first streamed token. */
  ttftMs: number | null = null;
  /** Cost, energy and CO₂e of the answer, and what a stream said while no usage was known (src/accounting). */
  accounting: RequestAccounting | null = null;
  /** Set when the data policy keeps this request's bodies (src/audit/body-log.ts). */
  bodyCapture: BodyCapture | null = null;
  /** The request's span when tracing is on (src/telemetry/tracing.ts); null costs nothing. */
  trace: RequestTrace | null = null;
  /** The answer's headers, written with its status in one writeHead; `x-request-id` from the start. */
  readonly headers = new ResponseHeaders();

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly runtime: Runtime,
    readonly endpoint: string,
  ) {
    this.startedAt = performance.now();
    const given = req.headers['x-request-id'];
    this.idGiven = typeof given === 'string' && REQUEST_ID.test(given);
    this.id = this.idGiven ? (given as string) : uuid7();
    this.headers.set('x-request-id', this.id);
    res.on('close', () => {
      if (res.writableFinished || this.clientGone) return;
      this.clientGone = true;
      this.controller?.abort(new GatewayError('client_closed_request'));
      this.onClientGone?.();
    });
  }

  /**
   * Aborted when the client leaves; made only when something waits on it (a backoff, a slow
   * client's drain), since most requests never need one.
   */
  get abort(): AbortController {
    if (this.controller === null) {
      this.controller = new AbortController();
      if (this.clientGone) this.controller.abort(new GatewayError('client_closed_request'));
    }
    return this.controller;
  }

  /** The running upstream call's hook for the client leaving (one at a time; null to clear). */
  whenClientGone(hook: (() => void) | null): void {
    this.onClientGone = hook;
  }

  elapsedMs(): number {
    return performance.now() - this.startedAt;
  }
}
