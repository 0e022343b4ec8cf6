import type { Logger } from '../telemetry/logger.js';
import type { Deployment } from './deployment.js';

export interface HealthCheckSettings {
  readonly path: string;
  readonly interval_ms: number;
  readonly timeout_ms: number;
}

/**
 * Active health checks, off the request path: every interval, a GET of the deployment's health
 * path. A failure opens its circuit (no traffic until a probe succeeds); a success lets an open
 * circuit try again at once. Timers are unref'd and stop with the runtime.
 */
export class HealthChecker {
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly checks: readonly { deployment: Deployment; settings: HealthCheckSettings }[],
    private readonly logger: Logger,
  ) {}

  start(): void {
    for (const check of this.checks) {
      const probe = check.deployment.adapter.probe;
      if (probe === undefined) {
        this.logger.warn(`deployment ${check.deployment.name}: its provider offers no health check; health_check ignored`);
        continue;
      }
      const timer = setInterval(() => void this.checkOnce(check.deployment, check.settings), check.settings.interval_ms);
      timer.unref();
      this.timers.push(timer);
    }
  }

  stop(): void {
    for (const timer of this.timers.splice(0)) clearInterval(timer);
  }

  async checkOnce(deployment: Deployment, settings: HealthCheckSettings): Promise<boolean> {
    const signal = AbortSignal.timeout(settings.timeout_ms);
    try {
      await deployment.adapter.probe!(settings.path, signal);
      deployment.state.breaker.healthCheckPassed(Date.now());
      return true;
    } catch (error) {
      deployment.state.breaker.forceOpen(Date.now());
      this.logger.warn({ deployment: deployment.name, reason: (error as Error).message }, 'health check failed; deployment taken out of rotation');
      return false;
    }
  }
}
