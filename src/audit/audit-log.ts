import { uuid7 } from '../core/uuid7.js';
import type { AuditConfig } from '../config/schema.js';
import type { Identity } from '../guard/keys.js';
import { AuditStore } from './audit-store.js';
import { BatchQueue } from './batch-queue.js';
import type { AppendOptions } from './chain.js';
import type { AuditEvent, AuditKind, AuditValue } from './types.js';

export interface AuditLogHooks {
  /** A failed write (it is retried) or checkpoint; for a log line. */
  readonly onError?: (error: unknown, what: string) => void;
  /** Entries that could not be kept (queue full, or shutdown gave up); for a metric. */
  readonly onDrop?: (count: number) => void;
  /**
   * Writes the request entries queued so far: they travel with their request rows (the request
   * writer), so flush() waits for those too. True when all were written within `timeoutMs`.
   */
  readonly flushRequests?: (timeoutMs?: number) => Promise<boolean>;
}

/** An admin action as the admin service reports it. */
export interface AdminAction {
  readonly kind: Exclude<AuditKind, 'request' | 'config.reloaded'>;
  readonly actor: Identity;
  /** The key's or team's id. */
  readonly subject: string;
  readonly teamId: string | null;
  /** The fields set or changed (never a secret or a hash). */
  readonly changes: Readonly<Record<string, unknown>>;
}

/** Where the admin service reports what it did. */
export interface AdminAuditSink {
  recordAdmin(action: AdminAction): Promise<void>;
}

/**
 * The running audit log: admin actions are appended at once (the admin call waits for them),
 * config reloads are queued, and checkpoints are written every `checkpoint_every` entries
 * (within an append) or every `checkpoint_interval_ms` when there are new entries. Requests'
 * entries are not written here: they are derived from the request rows and appended with them,
 * in the request writer's transaction (on SQLite in its thread; see AuditStore.insertRequests
 * and src/store/sqlite-writer-worker.ts), so that the request path does no audit work at all.
 * Process-wide, like the governance it belongs to.
 */
export class AuditLog implements AdminAuditSink {
  readonly store: AuditStore;
  private readonly queue: BatchQueue<AuditEvent>;
  private readonly timer: NodeJS.Timeout;
  /** Signs checkpoints and checks them in verification; null: unsigned. Never logged. */
  readonly secret: string | null;
  private checkpointing: Promise<unknown> | null = null;

  constructor(
    store: AuditStore,
    private readonly settings: AuditConfig,
    private readonly hooks: AuditLogHooks = {},
  ) {
    this.store = store;
    this.secret = settings.hmac_secret ?? null;
    this.queue = new BatchQueue<AuditEvent>({
      write: async (events) => {
        await this.store.append(events, this.appendOptions());
      },
      onDrop: hooks.onDrop,
      onError: (error) => hooks.onError?.(error, 'audit log write failed; retrying'),
    });
    this.timer = setInterval(() => void this.checkpointNow(), settings.checkpoint_interval_ms);
    this.timer.unref();
  }

  /** Appends an admin action now; if the store refuses, it is queued and retried rather than lost. */
  async recordAdmin(action: AdminAction): Promise<void> {
    const event: AuditEvent = {
      id: uuid7(),
      ts: Date.now(),
      kind: action.kind,
      actor: actorOf(action.actor),
      team_id: action.teamId,
      subject: action.subject,
      data: toAuditRecord(action.changes),
    };
    try {
      await this.store.append([event], this.appendOptions());
    } catch (error) {
      this.hooks.onError?.(error, 'audit log write failed; queued for retry');
      this.queue.enqueue(event);
    }
  }

  /** A config reload: which sections and aliases changed (names only, never values). */
  recordConfigReload(changes: { readonly sections: readonly string[]; readonly added: readonly string[]; readonly removed: readonly string[] }): void {
    this.queue.enqueue({
      id: uuid7(),
      ts: Date.now(),
      kind: 'config.reloaded',
      actor: 'system',
      team_id: null,
      subject: 'config',
      data: { sections: [...changes.sections], models_added: [...changes.added], models_removed: [...changes.removed] },
    });
    void this.queue.flush().catch(() => undefined);
  }

  /** Writes what is queued, request entries included (tests, shutdown). */
  async flush(timeoutMs?: number): Promise<boolean> {
    const [own, requests] = await Promise.all([this.queue.flush(timeoutMs), this.hooks.flushRequests?.(timeoutMs) ?? true]);
    return own && requests;
  }

  /** Writes a checkpoint of the head unless the last one marks it already. */
  async checkpointNow(): Promise<void> {
    if (this.checkpointing !== null) return;
    this.checkpointing = this.store.checkpoint(this.secret).catch((error: unknown) => this.hooks.onError?.(error, 'audit checkpoint failed'));
    try {
      await this.checkpointing;
    } finally {
      this.checkpointing = null;
    }
  }

  async close(timeoutMs = 10_000): Promise<void> {
    clearInterval(this.timer);
    await this.queue.close(timeoutMs);
    await this.checkpointNow();
  }

  private appendOptions(): AppendOptions {
    return auditAppendOptions(this.settings);
  }
}

/** How appends checkpoint and sign, from the `audit` config: the same wherever entries are appended. */
export function auditAppendOptions(settings: AuditConfig): AppendOptions {
  return { checkpointEvery: settings.checkpoint_every, checkpointIntervalMs: settings.checkpoint_interval_ms, secret: settings.hmac_secret ?? null };
}

/** `master`, `key:<id>`, or `anonymous` (never reaches the admin service, but named all the same). */
export function actorOf(identity: Identity): string {
  return identity.kind === 'key' ? `key:${identity.key.id}` : identity.kind;
}

/** Admin input as audit data: JSON values only, undefined fields left out. */
function toAuditRecord(changes: Readonly<Record<string, unknown>>): Record<string, AuditValue> {
  const out: Record<string, AuditValue> = {};
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) continue;
    out[name] = JSON.parse(JSON.stringify(value)) as AuditValue;
  }
  return out;
}
