import type { ChatField, FieldHandling } from '../core/types.js';
import type { Timeouts } from '../config/deployment-base.js';
import type { GatewayError } from '../core/errors.js';
import type { ProviderAdapter } from '../providers/types.js';

/** After a failure of the upstream itself, the deployment is passed over for this long. */
const FAILURE_COOLDOWN_MS = 5_000;

const UPSTREAM_FAULTS = new Set(['upstream_unreachable', 'upstream_error', 'upstream_timeout', 'upstream_bad_response']);

/** One place a model runs, as the gateway sees it at run time: adapter, limits and health. */
export class Deployment {
  /** Epoch ms until which the deployment counts as unhealthy; 0 when healthy. */
  private unhealthyUntil = 0;
  /** Chat fields this deployment refuses (400 when present) or drops (named in a response header). */
  readonly rejectedChatFields: readonly ChatField[];
  readonly ignoredChatFields: readonly ChatField[];

  constructor(
    readonly name: string,
    readonly alias: string,
    readonly provider: string,
    readonly upstreamModel: string,
    readonly adapter: ProviderAdapter,
    readonly timeouts: Timeouts,
    readonly chatFields: Readonly<Record<ChatField, FieldHandling>>,
  ) {
    const fields = Object.keys(chatFields) as ChatField[];
    this.rejectedChatFields = fields.filter((field) => chatFields[field] === 'rejected');
    this.ignoredChatFields = fields.filter((field) => chatFields[field] === 'ignored');
  }

  isHealthy(now: number): boolean {
    return this.unhealthyUntil <= now;
  }

  /** When this deployment becomes healthy again (epoch ms; 0 if it is). */
  healthyAt(): number {
    return this.unhealthyUntil;
  }

  /** Records the outcome of a call: upstream faults take it out of rotation for a while. */
  recordOutcome(error: GatewayError | null, now: number): void {
    if (error === null) {
      this.unhealthyUntil = 0;
    } else if (UPSTREAM_FAULTS.has(error.code)) {
      this.unhealthyUntil = now + FAILURE_COOLDOWN_MS;
    }
  }
}
