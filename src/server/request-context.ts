import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { GatewayError } from '../core/errors.js';
import type { Usage } from '../core/types.js';
import type { Deployment } from '../routing/deployment.js';
import type { ModelAlias } from '../routing/model-alias.js';
import type { EventStream, Parsed } from '../providers/types.js';
import type { Runtime } from './runtime.js';

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
  readonly startedAt: number;
  /** Aborted when the client leaves or the total timeout passes; the reason is a GatewayError. */
  readonly abort = new AbortController();

  /** The parsed JSON body. */
  body: unknown = undefined;
  /** The `model` the client asked for. */
  model = '';
  stream = false;
  /** The client asked for the usage chunk of a stream (`stream_options.include_usage`). */
  clientWantsUsage = false;
  alias: ModelAlias | null = null;
  deployment: Deployment | null = null;
  result: UpstreamResult | null = null;
  usage: Usage | null = null;
  /** The HTTP status sent, or 499 when the client left first. */
  status = 0;
  error: GatewayError | null = null;
  /** Milliseconds from the start to the first streamed token. */
  ttftMs: number | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly runtime: Runtime,
    readonly endpoint: string,
  ) {
    this.startedAt = performance.now();
    const given = req.headers['x-request-id'];
    this.id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    res.on('close', () => {
      if (!res.writableFinished && !this.abort.signal.aborted) this.abort.abort(new GatewayError('client_closed_request'));
    });
  }

  elapsedMs(): number {
    return performance.now() - this.startedAt;
  }

  /** Bounds the upstream call; when time is up the call is aborted with an upstream_timeout. */
  armTotalTimeout(ms: number): void {
    this.timer = setTimeout(() => {
      if (!this.abort.signal.aborted) {
        this.abort.abort(new GatewayError('upstream_timeout', { message: `The upstream call took longer than ${ms} ms in total.` }));
      }
    }, ms);
  }

  disarm(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
