import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GatewayError } from '../core/errors.js';
import type { Config } from '../config/schema.js';
import { openAiErrorBody } from '../protocols/openai/errors.js';
import { createLogger, FieldLines, type Logger } from '../telemetry/logger.js';
import { GatewayMetrics } from '../telemetry/metrics.js';
import { openTracing, type Tracing } from '../telemetry/tracing.js';
import { accountRequest } from './account.js';
import { ADMIN_ROUTE, API_ROUTES, MODEL_ROUTE, UI_ROUTE, prefixRoute, type ApiRoute } from './endpoints.js';
import { Governance } from '../guard/governance.js';
import { configChanges } from '../audit/config-changes.js';
import { runLifecycle, type Lifecycle, type Stage } from './lifecycle.js';
import { RequestContext } from './request-context.js';
import { sendErrorWith } from './respond.js';
import { Runtime } from './runtime.js';
import { DeploymentStates } from '../routing/deployment-state.js';
import { HealthChecker } from '../routing/health-checker.js';
import { Fleet } from '../fleet/fleet.js';
import { TelemetryPoller } from '../accounting/telemetry-scraper.js';

export interface GatewayOptions {
  readonly logger?: Logger;
}

/**
 * The gateway process: one HTTP server, the current Runtime (swapped on reload), metrics and
 * the request log. Knows the path table and the order of things; each stage does the work.
 */
export class Gateway {
  readonly metrics = new GatewayMetrics();
  readonly logger: Logger;
  private readonly lines: FieldLines;
  private current: Runtime;
  /** What the router learned of each deployment; survives reloads. */
  private readonly states = new DeploymentStates();
  private healthChecker: HealthChecker | null = null;
  /** Self-hosted servers and the scraper of their metrics; survives reloads. */
  private fleet: Fleet | null = null;
  /** Scrapes GPU and token telemetry of deployments that declare it; survives reloads. */
  private telemetry: TelemetryPoller | null = null;
  private governance: Governance | null = null;
  /** Spans of requests and attempts, when configured (set at listen; the SDK is loaded only then). */
  private tracing: Tracing | null = null;
  private readonly server: Server;
  private inFlight = 0;
  private draining = false;
  private idleWaiters: (() => void)[] = [];
  private readonly finish: Lifecycle['finish'];
  /** One Lifecycle object per route, built once rather than per request. */
  private readonly routeLifecycles = new Map<ApiRoute, Lifecycle>();

  constructor(config: Config, options: GatewayOptions = {}) {
    this.logger = options.logger ?? createLogger(config.logging.level);
    this.lines = new FieldLines(this.logger);
    this.current = this.buildRuntime(config);
    this.metrics.deploymentsSource = () => this.deploymentViews();
    this.server = createServer({ keepAliveTimeout: 65_000, headersTimeout: 60_000 }, this.onRequest);
    this.finish = (ctx) => {
      try {
        accountRequest(ctx, this.metrics, this.lines);
        ctx.trace?.end(ctx);
        ctx.runtime.governance?.record(ctx);
      } finally {
        this.requestDone(ctx);
      }
    };
    for (const route of [...API_ROUTES.values(), MODEL_ROUTE, ADMIN_ROUTE, UI_ROUTE]) {
      this.routeLifecycles.set(route, { stages: route.stages, sendError: (ctx) => sendErrorWith(ctx, route.errorBody), finish: this.finish });
    }
  }

  get runtime(): Runtime {
    return this.current;
  }

  /** Opens the governance store (keys, limits, request log), then listens. */
  async listen(port = this.current.config.server.port, host = this.current.config.server.host): Promise<AddressInfo> {
    if (this.governance === null) {
      this.governance = await Governance.open(this.current.config, this.logger, this.metrics);
      this.current.governance = this.governance;
    }
    this.tracing ??= await openTracing(this.current.config.telemetry, this.logger);
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /** Serves new requests from `config`; requests already running finish on the old one. */
  reload(config: Config): void {
    const previous = this.current;
    this.current = this.buildRuntime(config);
    this.governance?.audit?.recordConfigReload(configChanges(previous.config, config));
    this.metrics.deploymentsSource = () => this.deploymentViews();
    if (config.server.port !== previous.config.server.port || config.server.host !== previous.config.server.host) {
      this.logger.warn('server.host and server.port take effect only at the next start');
    }
    if (JSON.stringify(config.telemetry) !== JSON.stringify(previous.config.telemetry)) {
      this.logger.warn('telemetry settings take effect only at the next start');
    }
    void previous.close();
  }

  /**
   * Stops accepting, lets in-flight requests and streams finish for up to `timeoutMs`, then
   * closes what is left. Resolves when the gateway is down.
   */
  async shutdown(timeoutMs = this.current.config.server.shutdown_timeout_ms): Promise<void> {
    if (!this.draining) {
      this.draining = true;
      this.server.close();
      this.server.closeIdleConnections();
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs)));
    const finished = await Promise.race([this.whenIdle().then(() => false), timedOut]);
    clearTimeout(timer);
    if (finished) this.logger.warn({ in_flight: this.inFlight }, 'shutdown timeout reached; closing open requests');
    this.server.closeAllConnections();
    this.healthChecker?.stop();
    this.fleet?.stop();
    this.telemetry?.stop();
    await this.current.close();
    await this.governance?.close();
    await this.tracing?.shutdown();
    this.logger.flush();
  }

  private buildRuntime(config: Config): Runtime {
    const runtime = new Runtime(config, this.states, this.governance);
    for (const warning of runtime.routes.warnings) this.logger.warn(warning);
    this.healthChecker?.stop();
    this.healthChecker = new HealthChecker(runtime.routes.healthChecks, this.logger);
    this.healthChecker.start();
    (this.fleet ??= new Fleet(this.logger)).sync(config, runtime.routes);
    (this.telemetry ??= new TelemetryPoller(this.logger)).configure(config, runtime.routes);
    return runtime;
  }

  private *deploymentViews() {
    for (const alias of this.current.routes.aliases.values()) {
      for (const deployment of alias.deployments) {
        yield {
          name: deployment.name,
          circuitState: (now: number) => deployment.state.breaker.stateAt(now),
          inFlight: () => deployment.state.inFlight,
        };
      }
    }
  }

  private whenIdle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private readonly onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    if (path === '/healthz' || path === '/readyz' || path === '/metrics') {
      this.serveOperational(path, res);
      return;
    }
    const route = API_ROUTES.get(path) ?? prefixRoute(path);
    const ctx = new RequestContext(req, res, this.current, route?.name ?? 'unknown');
    if (this.tracing !== null) ctx.trace = this.tracing.startRequest(ctx);
    if (this.draining) ctx.headers.set('connection', 'close');
    this.inFlight++;
    this.metrics.inFlightSeries(ctx.endpoint).inc();
    // Every lifecycle's `finish` ends with requestDone (in-flight count down, idle waiters woken).
    void runLifecycle(ctx, this.lifecycleFor(route, req.method));
  };

  private requestDone(ctx: RequestContext): void {
    this.metrics.inFlightSeries(ctx.endpoint).dec();
    if (--this.inFlight === 0 && this.idleWaiters.length > 0) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  private lifecycleFor(route: ApiRoute | undefined, method: string | undefined): Lifecycle {
    const errorBody = route?.errorBody ?? openAiErrorBody;
    if (this.draining) return this.failing(new GatewayError('shutting_down'), errorBody);
    if (route === undefined) return this.failing(new GatewayError('route_not_found'), errorBody);
    if (route.method !== '*' && method !== route.method) {
      const error = new GatewayError('method_not_allowed', { message: `Use ${route.method} for this endpoint.`, headers: { allow: route.method } });
      return this.failing(error, errorBody);
    }
    return this.routeLifecycles.get(route)!;
  }

  private failing(error: GatewayError, errorBody: ApiRoute['errorBody']): Lifecycle {
    const stage: Stage = () => {
      throw error;
    };
    return { stages: [stage], sendError: (ctx) => sendErrorWith(ctx, errorBody), finish: this.finish };
  }

  private serveOperational(path: string, res: ServerResponse): void {
    if (path === '/metrics') {
      this.metrics.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': this.metrics.registry.contentType });
          res.end(text);
        },
        () => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end('metrics unavailable\n');
        },
      );
      return;
    }
    const ready = path === '/healthz' || (!this.draining && this.governance !== null);
    const body = JSON.stringify({ status: ready ? 'ok' : 'shutting_down' });
    res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }
}
