import { randomBytes } from 'node:crypto';
import { uuid7 } from '../core/uuid7.js';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Config } from '../config/schema.js';
import { GovernanceService } from '../admin/service.js';
import type { RequestContext } from '../server/request-context.js';
import type { Logger } from '../telemetry/logger.js';
import type { GatewayMetrics } from '../telemetry/metrics.js';
import { openStore } from '../store/open-store.js';
import { RequestWriter } from '../store/request-writer.js';
import { PostgresWorkerSink } from '../store/postgres-writer.js';
import { SqliteWorkerSink } from '../store/sqlite-writer.js';
import type { WriterThread, WriterThreadOptions } from '../store/writer-thread.js';
import type { SqlGovernanceStore } from '../store/sql-store.js';
import type { AppendOptions } from '../audit/chain.js';
import { createNotifier } from '../store/notifiers.js';
import { startRetention, type RetentionHandle } from '../store/retention.js';
import type { AttemptRecord, ChangeEvent, ChangeNotifier, GovernanceStore, RequestRow } from '../store/types.js';
import { KeyDirectory, KeyHasher } from './keys.js';
import { createLimitBackend, periodStart } from './limits/index.js';
import type { LimitBackend } from './limits/types.js';
import { scopesOf } from './stages.js';
import { toNanos } from './types.js';
import { settleAccounting } from '../accounting/request.js';
import { AuditLog, auditAppendOptions } from '../audit/audit-log.js';
import { AuditStore } from '../audit/audit-store.js';
import { BodyLog, completionOf } from '../audit/body-log.js';

/** The endpoints whose requests are model calls: they are what the request log and spend hold. */
const MODEL_CALLS = new Set(['chat', 'completions', 'embeddings', 'messages']);

/** A full reload of keys and teams as a safety net under change notifications. */
const DIRECTORY_RELOAD_MS = 30_000;

/**
 * Keys, teams, limits, budgets and the request log, put together from config: the store
 * (SQLite or Postgres), the in-memory key directory, the limit backend (memory or Redis), the
 * change notifier and the batch writer. Process-wide: it outlives config reloads.
 */
/**
 * How long a request's row (and its body, under log_bodies) waits before it is written. Small
 * batches often rather than big ones seldom: a batch costs the request path its hand-over (a
 * structured clone of the rows) and takes a core for its insert while it runs, so one second's
 * rows at once showed in the latency tail.
 */
const REQUEST_LOG_FLUSH_MS = 100;
/** How far a background request-log writer may fall behind before a normal-priority one helps (rows). */
const CATCH_UP_ABOVE_ROWS = 2_048;
/**
 * … or how long a row may wait before a normal-priority one writes it (ms): where few rows come
 * on a host busy with other work, the queue never reaches the row limit while the background
 * thread waits seconds for a core. Not shorter: under load the row limit is what should hand
 * over (at 1 s, callgrind's slowed clock made every other batch go to the second thread).
 */
const CATCH_UP_AFTER_MS = 5_000;
/** The catch-up writer thread ends after this long without a batch, giving its memory back. */
const CATCH_UP_IDLE_END_MS = 60_000;

export class Governance {
  private readonly timers: NodeJS.Timeout[] = [];
  private retention: RetentionHandle | null = null;

  private constructor(
    readonly store: GovernanceStore,
    readonly directory: KeyDirectory,
    readonly limits: LimitBackend,
    readonly writer: RequestWriter,
    readonly notifier: ChangeNotifier,
    readonly service: GovernanceService,
    private readonly logger: Logger,
    private readonly writerThreads: WriterThreads | null,
    /** The hash-chained audit log (docs/audit.md); null when `audit.enabled` is false. */
    readonly audit: AuditLog | null,
    /** Redacted prompts and completions under a `log_bodies` data policy. */
    readonly bodies: BodyLog,
  ) {}

  static async open(config: Config, logger: Logger, metrics: GatewayMetrics): Promise<Governance> {
    const settings = config.governance;
    const url = settings.database_url ?? settings.sqlite_path;
    const store = await openStore({ url, onPoolError: (error) => logger.warn({ reason: error.message }, 'database connection lost; reconnecting') });
    const pepper = settings.key_pepper ?? localPepper(settings.database_url, settings.sqlite_path);
    const directory = new KeyDirectory(store, new KeyHasher(pepper));
    await directory.load();
    const notifier = await createNotifier({ redisUrl: settings.redis_url ?? null, redisPrefix: settings.redis_prefix, store, logger });
    const limits = createLimitBackend({
      redisUrl: settings.redis_url ?? null,
      onUnavailable: settings.on_redis_unavailable,
      keyPrefix: `${settings.redis_prefix}limits:`,
      leases: settings.limit_lease_ms === 0 ? false : { ttlMs: settings.limit_lease_ms },
      log: (message, { level, ...fields }) => logger[level](fields, message),
    });
    // Requests' audit entries are appended with their rows, in the writer's transaction.
    const auditOptions = config.audit.enabled ? auditAppendOptions(config.audit) : null;
    const auditStore = config.audit.enabled ? new AuditStore(store.db, store.kind) : null;
    // The request log is written from a worker thread, so that a batch never stalls requests: a
    // SQLite file by its own connection, Postgres by its own small pool. (SQLite in memory is one
    // connection's, so it is written here.)
    const writerThreads = requestWriterThreads(store, settings, auditOptions);
    let caughtUp = false;
    const sink = writerThreads?.main ?? (auditStore !== null && auditOptions !== null ? auditStore.requestSink(auditOptions) : store);
    const writer = new RequestWriter(sink, {
      flushIntervalMs: REQUEST_LOG_FLUSH_MS,
      batchSize: 256,
      catchUp: writerThreads?.catchUp ?? undefined,
      catchUpAbove: CATCH_UP_ABOVE_ROWS,
      catchUpAfterMs: CATCH_UP_AFTER_MS,
      onCatchUp: (count) => {
        if (!caughtUp) {
          caughtUp = true;
          logger.info({ queued: writer.queued }, 'request log: the background writer fell behind; a writer thread at normal priority helps while it is');
        }
        metrics.requestLogCatchUp.inc(count);
      },
      onDrop: (count) => metrics.requestLogDropped.inc(count),
      onError: (error, attempt) => logger.warn({ attempt, reason: (error as Error).message }, 'request log write failed; retrying'),
    });
    const onAuditError = (error: unknown, what: string) => logger.warn({ reason: (error as Error).message }, what);
    const audit = auditStore === null ? null : new AuditLog(auditStore, config.audit, { onError: onAuditError, flushRequests: (timeoutMs) => writer.flush(timeoutMs) });
    const bodies = new BodyLog(store.db, {
      onError: (error) => onAuditError(error, 'request body log write failed; retrying'),
      // A request's body is readable about when its row is listed.
      flushIntervalMs: REQUEST_LOG_FLUSH_MS,
    });
    const service = new GovernanceService(store, directory, notifier, settings.rotation_grace_ms, audit);
    const governance = new Governance(store, directory, limits, writer, notifier, service, logger, writerThreads, audit, bodies);
    notifier.subscribe((event: ChangeEvent) => {
      directory.apply(event).catch((error: Error) => logger.warn({ reason: error.message }, 'could not apply a key change'));
    });
    // Changes announced while the notifier was disconnected are lost: read everything again.
    notifier.onResync?.(() => {
      directory.load().catch((error: Error) => logger.warn({ reason: error.message }, 'could not reload keys'));
    });
    await governance.seedSpend();
    governance.startBackground(settings.retention_days);
    metrics.requestLogQueue = () => writer.queued;
    metrics.limitCounts = () => limits.counts();
    return governance;
  }

  /**
   * The end of a governed request: settle what was reserved with what was used, and queue its
   * row for the request log (its audit entry is derived from the row when the row is written).
   * Never awaited on the request's way; failures are logged.
   */
  record(ctx: RequestContext): void {
    if (!MODEL_CALLS.has(ctx.endpoint)) return;
    const usage = ctx.usage;
    const promptTokens = usage?.prompt_tokens ?? 0;
    const completionTokens = usage?.completion_tokens ?? 0;
    // Cost, energy and CO₂e are settled once in src/accounting (the same figures as headers and metrics).
    const figures = settleAccounting(ctx);
    const cost = figures === null ? 0 : toNanos(figures.costUsd);
    const reservation = ctx.reservation;
    if (reservation !== null) {
      ctx.reservation = null;
      this.limits.settle(reservation, promptTokens + completionTokens, cost).catch((error: Error) => {
        this.logger.error({ request_id: ctx.id, reason: error.message }, 'could not settle a reservation');
      });
    }
    const identity = ctx.identity;
    const row: RequestRow = {
      // The request's own id when the gateway made it (unique, time-ordered); a client's may repeat.
      id: ctx.idGiven ? uuid7() : ctx.id,
      ts: Date.now() - Math.round(ctx.elapsedMs()),
      key_id: identity.kind === 'key' ? identity.key.id : null,
      team_id: identity.kind === 'key' ? identity.key.team_id : null,
      alias: ctx.alias?.name ?? null,
      deployment: ctx.deployment?.name ?? null,
      endpoint: ctx.endpoint,
      status: ctx.status,
      stream: ctx.stream,
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      cost_nanos: cost,
      latency_ms: Math.round(ctx.elapsedMs()),
      ttft_ms: ctx.ttftMs === null ? null : Math.round(ctx.ttftMs),
      error_code: ctx.error?.code ?? null,
      energy_wh: figures?.energyWh ?? null,
      co2e_ug: figures === null || figures.co2eG === null ? null : Math.round(figures.co2eG * 1e6),
      usage_estimated: figures?.estimated ?? false,
      attempts: attemptRecords(ctx),
      region: ctx.deployment?.traits.region ?? null,
      pii_types: ctx.pii === null ? null : ctx.pii.counts,
      request_id: ctx.id,
    };
    this.writer.enqueue(row);
    if (ctx.bodyCapture !== null) {
      this.bodies.enqueue({ requestId: row.id, ts: row.ts, teamId: row.team_id, prompt: ctx.body, pseudonyms: ctx.pii?.pseudonyms ?? null, completion: completionOf(ctx) });
    }
  }

  async close(flushTimeoutMs = 10_000): Promise<void> {
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    this.retention?.stop();
    await this.writer.close(flushTimeoutMs);
    await Promise.all([this.audit?.close(flushTimeoutMs), this.bodies.close(flushTimeoutMs)]);
    await Promise.all([this.writerThreads?.main.close(), this.writerThreads?.catchUp?.close()]);
    await Promise.allSettled([this.notifier.close(), this.limits.close()]);
    await this.store.close();
  }

  /** Budgets survive restarts: each budget's spend in its current period is read back from the store. */
  private async seedSpend(): Promise<void> {
    const now = Date.now();
    for (const key of await this.store.listKeys()) {
      if (key.state === 'revoked') continue;
      for (const scope of scopesOf(key, this.directory.team(key.team_id))) {
        if (scope.budgetNanos === null) continue;
        const [kind, id] = scope.id.split(':') as ['key' | 'team', string];
        await this.limits.seedSpend(scope, await this.store.spendSince(kind, id, periodStart(scope.budgetPeriod, now)));
      }
    }
  }

  private startBackground(retentionDays: number): void {
    const reload = setInterval(() => {
      this.directory.load().catch((error: Error) => this.logger.warn({ reason: error.message }, 'could not reload keys'));
    }, DIRECTORY_RELOAD_MS);
    reload.unref();
    this.timers.push(reload);
    if (retentionDays > 0) {
      this.retention = startRetention(this.store, retentionDays, undefined, {
        onError: (error) => this.logger.warn({ reason: (error as Error).message }, 'request log retention failed'),
      });
    }
  }
}

/** The attempts for the request log: the first ones only, so that a row stays small. */
const MAX_LOGGED_ATTEMPTS = 16;

function attemptRecords(ctx: RequestContext): AttemptRecord[] | null {
  const log = ctx.attemptLog;
  if (log.length === 0) return null;
  const records: AttemptRecord[] = [];
  for (const attempt of log.length > MAX_LOGGED_ATTEMPTS ? log.slice(0, MAX_LOGGED_ATTEMPTS) : log) {
    records.push({ deployment: attempt.deployment, status: attempt.status, error_code: attempt.outcome === 'ok' ? null : attempt.outcome, latency_ms: Math.round(attempt.ms) });
  }
  return records;
}

/** The threads that write the request log: `main`, and at background priority a `catchUp` one started when first needed. */
interface WriterThreads {
  readonly main: WriterThread;
  readonly catchUp: WriterThread | null;
}

/** The worker threads that write the request log (with the requests' audit entries), or null where none can. */
function requestWriterThreads(store: SqlGovernanceStore, settings: Config['governance'], audit: AppendOptions | null): WriterThreads | null {
  const background = settings.request_log_priority === 'background';
  let thread: (options: WriterThreadOptions) => WriterThread;
  if (store.kind === 'postgres' && store.connectionString !== null) {
    const url = store.connectionString;
    thread = (options) => new PostgresWorkerSink(url, audit, options);
  } else if (store.kind === 'sqlite' && settings.database_url === undefined && settings.sqlite_path !== ':memory:') {
    const path = store.location;
    thread = (options) => new SqliteWorkerSink(path, { audit, ...options });
  } else {
    return null;
  }
  if (!background) return { main: thread({ priority: 'normal' }), catchUp: null };
  return { main: thread({ priority: 'background' }), catchUp: thread({ priority: 'normal', lazy: true, idleEndMs: CATCH_UP_IDLE_END_MS }) };
}

/**
 * Without a configured pepper, a single instance makes one up once and keeps it next to its
 * SQLite file. Replicas on Postgres must share a configured one.
 */
function localPepper(databaseUrl: string | undefined, sqlitePath: string): string {
  if (databaseUrl !== undefined) {
    throw new Error('governance.key_pepper (STELLWERK_KEY_PEPPER) must be set when the store is Postgres: every replica needs the same one');
  }
  if (sqlitePath === ':memory:') return randomBytes(32).toString('hex');
  const file = join(dirname(sqlitePath), 'key-pepper');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dirname(file), { recursive: true });
  const pepper = randomBytes(32).toString('hex');
  writeFileSync(file, pepper + '\n', { mode: 0o600, flag: 'wx' });
  return pepper;
}
