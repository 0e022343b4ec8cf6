import { randomUUID } from 'node:crypto';
import { GatewayError } from '../core/errors.js';
import { displayPrefix, generateKey, type Identity, type KeyDirectory } from '../guard/keys.js';
import type { KeyRecord, TeamRecord } from '../guard/types.js';
import type { ChangeEvent, ChangeNotifier, GovernanceStore, RequestRow, UsageQuery, UsageRow } from '../store/types.js';
import type { RequestLogPage, RequestLogQuery } from '../store/request-log.js';
import type { BudgetPeriod } from '../guard/types.js';
import { periodStart } from '../guard/limits/budget-period.js';
import { SqlGovernanceStore } from '../store/sql-store.js';
import { querySpend, querySpendBy, queryStatsBuckets, queryTraffic, type StatsBucket } from '../store/stats.js';
import type { CreateKeyInput, CreateTeamInput, UpdateKeyInput, UpdateTeamInput } from './schemas.js';
import type { AdminAction, AdminAuditSink } from '../audit/audit-log.js';

/** A key as the admin API shows it: never its hash. */
export type KeyView = Omit<KeyRecord, 'hash' | 'previous_hash'> & { readonly rotated: boolean };

export function keyView(key: KeyRecord): KeyView {
  const { hash: _hash, previous_hash, ...rest } = key;
  return { ...rest, rotated: previous_hash !== null };
}

/**
 * What the admin API and the CLI do to keys and teams, with the rights of who asks: the master
 * key may do everything; an admin key manages the keys of its own team and reads its team;
 * anything else is refused. Each change is written to the store, applied to this replica's
 * directory and announced to the others.
 */
export class GovernanceService {
  constructor(
    private readonly store: GovernanceStore,
    private readonly directory: KeyDirectory,
    private readonly notifier: ChangeNotifier,
    private readonly rotationGraceMs: number,
    /** Where each change is recorded (docs/audit.md); null: the audit log is off. */
    private readonly audit: AdminAuditSink | null = null,
  ) {}

  async createKey(actor: Identity, input: CreateKeyInput): Promise<{ key: string; record: KeyView }> {
    const team = this.keyTeamFor(actor, input.team ?? null);
    if (team !== null && (await this.store.getTeam(team)) === null) {
      throw new GatewayError('invalid_request', { message: `No team "${team}".`, param: 'team' });
    }
    if (input.role === 'admin' && actor.kind !== 'master' && team === null) {
      throw new GatewayError('forbidden', { message: 'Only the master key can create admin keys without a team.' });
    }
    const secret = generateKey();
    const now = Date.now();
    const record: KeyRecord = {
      id: `key_${randomUUID().replace(/-/g, '')}`,
      hash: this.directory.hasher.hash(secret),
      prefix: displayPrefix(secret),
      name: input.name ?? null,
      team_id: team,
      role: input.role ?? 'user',
      models: input.models ?? null,
      rpm: input.rpm ?? null,
      tpm: input.tpm ?? null,
      max_parallel: input.max_parallel ?? null,
      budget: input.budget ?? null,
      budget_period: input.budget_period ?? 'month',
      expires_at: input.expires_at == null ? null : Date.parse(input.expires_at),
      metadata: input.metadata ?? {},
      data_policy: input.data_policy ?? null,
      state: 'active',
      created_at: now,
      updated_at: now,
      previous_hash: null,
      previous_expires_at: null,
    };
    await this.store.insertKey(record);
    await this.changed({ kind: 'key', id: record.id });
    await this.audited(actor, 'key.created', record.id, record.team_id, { ...input, team });
    return { key: secret, record: keyView(record) };
  }

  async listKeys(actor: Identity): Promise<KeyView[]> {
    const team = this.scopeOf(actor);
    const keys = await this.store.listKeys();
    return keys.filter((key) => team === null || key.team_id === team).map(keyView);
  }

  async getKey(actor: Identity, id: string): Promise<KeyView> {
    return keyView(await this.ownKey(actor, id));
  }

  async updateKey(actor: Identity, id: string, input: UpdateKeyInput): Promise<KeyView> {
    const key = await this.ownKey(actor, id);
    if (key.state === 'revoked') throw new GatewayError('invalid_request', { message: 'A revoked key cannot be changed.', param: 'id' });
    if (input.role === 'admin' && actor.kind !== 'master' && key.team_id === null) throw new GatewayError('forbidden');
    const updated: KeyRecord = {
      ...key,
      ...definedOnly({
        name: input.name,
        role: input.role,
        models: input.models,
        rpm: input.rpm,
        tpm: input.tpm,
        max_parallel: input.max_parallel,
        budget: input.budget,
        budget_period: input.budget_period,
        metadata: input.metadata,
        data_policy: input.data_policy,
        state: input.state,
      }),
      expires_at: input.expires_at === undefined ? key.expires_at : input.expires_at === null ? null : Date.parse(input.expires_at),
      updated_at: Date.now(),
    };
    await this.store.updateKey(updated);
    await this.changed({ kind: 'key', id });
    await this.audited(actor, 'key.updated', id, key.team_id, definedOnly(input));
    return keyView(updated);
  }

  /** Revocation keeps the row (its usage stays attributable) and takes effect on every replica. */
  async revokeKey(actor: Identity, id: string): Promise<KeyView> {
    const key = await this.ownKey(actor, id);
    const revoked: KeyRecord = { ...key, state: 'revoked', previous_hash: null, previous_expires_at: null, updated_at: Date.now() };
    await this.store.updateKey(revoked);
    await this.changed({ kind: 'key', id });
    await this.audited(actor, 'key.revoked', id, key.team_id, { state: 'revoked' });
    return keyView(revoked);
  }

  /** A new secret for the same key record; the old secret works for the grace period. */
  async rotateKey(actor: Identity, id: string, graceMs = this.rotationGraceMs): Promise<{ key: string; record: KeyView }> {
    const key = await this.ownKey(actor, id);
    if (key.state === 'revoked') throw new GatewayError('invalid_request', { message: 'A revoked key cannot be rotated.', param: 'id' });
    const secret = generateKey();
    const now = Date.now();
    const rotated: KeyRecord = {
      ...key,
      hash: this.directory.hasher.hash(secret),
      prefix: displayPrefix(secret),
      previous_hash: key.hash,
      previous_expires_at: now + graceMs,
      updated_at: now,
    };
    await this.store.updateKey(rotated);
    await this.changed({ kind: 'key', id });
    // The new secret and both hashes stay out of the log; the grace period says what changed.
    await this.audited(actor, 'key.rotated', id, key.team_id, { grace_ms: graceMs });
    return { key: secret, record: keyView(rotated) };
  }

  async createTeam(actor: Identity, input: CreateTeamInput): Promise<TeamRecord> {
    this.requireMaster(actor);
    const now = Date.now();
    const team: TeamRecord = {
      id: `team_${randomUUID().replace(/-/g, '')}`,
      name: input.name,
      models: input.models ?? null,
      rpm: input.rpm ?? null,
      tpm: input.tpm ?? null,
      max_parallel: input.max_parallel ?? null,
      budget: input.budget ?? null,
      budget_period: input.budget_period ?? 'month',
      metadata: input.metadata ?? {},
      data_policy: input.data_policy ?? null,
      state: 'active',
      created_at: now,
      updated_at: now,
    };
    await this.store.insertTeam(team);
    await this.changed({ kind: 'team', id: team.id });
    await this.audited(actor, 'team.created', team.id, team.id, input);
    return team;
  }

  async listTeams(actor: Identity): Promise<TeamRecord[]> {
    const team = this.scopeOf(actor);
    return (await this.store.listTeams()).filter((item) => team === null || item.id === team);
  }

  async getTeam(actor: Identity, id: string): Promise<TeamRecord> {
    const scope = this.scopeOf(actor);
    const team = await this.store.getTeam(id);
    if (team === null || (scope !== null && scope !== id)) throw new GatewayError('not_found', { message: `No team "${id}".` });
    return team;
  }

  async updateTeam(actor: Identity, id: string, input: UpdateTeamInput): Promise<TeamRecord> {
    this.requireMaster(actor);
    const team = await this.getTeam(actor, id);
    const updated: TeamRecord = {
      ...team,
      ...definedOnly({
        name: input.name,
        models: input.models,
        rpm: input.rpm,
        tpm: input.tpm,
        max_parallel: input.max_parallel,
        budget: input.budget,
        budget_period: input.budget_period,
        metadata: input.metadata,
        data_policy: input.data_policy,
        state: input.state,
      }),
      updated_at: Date.now(),
    };
    await this.store.updateTeam(updated);
    await this.changed({ kind: 'team', id });
    await this.audited(actor, 'team.updated', id, id, definedOnly(input));
    return updated;
  }

  async deleteTeam(actor: Identity, id: string): Promise<void> {
    this.requireMaster(actor);
    if (!(await this.store.deleteTeam(id))) throw new GatewayError('not_found', { message: `No team "${id}".` });
    await this.changed({ kind: 'team', id });
    await this.audited(actor, 'team.deleted', id, id, {});
    // Its keys now have no team: refresh them everywhere.
    for (const key of await this.store.listKeys()) if (key.team_id === null) await this.changed({ kind: 'key', id: key.id });
  }

  async usage(actor: Identity, query: Omit<UsageQuery, 'teamId'>): Promise<UsageRow[]> {
    return this.store.usage({ ...query, teamId: this.scopeOf(actor) });
  }

  /** A page of the request log; an admin key sees its team's requests only. */
  async searchRequests(actor: Identity, query: RequestLogQuery): Promise<RequestLogPage> {
    const scope = this.scopeOf(actor);
    if (scope === null) return this.store.searchRequests(query);
    if (query.teamId !== null && query.teamId !== scope) {
      throw new GatewayError('forbidden', { message: 'An admin key sees only the requests of its own team.', param: 'team' });
    }
    return this.store.searchRequests({ ...query, teamId: scope });
  }

  /** One request of the log; another team's is as unknown to an admin key as a missing one. */
  async getRequest(actor: Identity, id: string): Promise<RequestRow> {
    const scope = this.scopeOf(actor);
    const row = await this.store.getRequest(id);
    if (row === null || (scope !== null && row.team_id !== scope)) throw new GatewayError('not_found', { message: `No request "${id}".` });
    return row;
  }

  /**
   * The dashboard's time series over [from, to) in buckets, with the spend of today and of this
   * month (UTC) beside it. An admin key sees its team's requests only.
   */
  async stats(
    actor: Identity,
    range: { from: number; to: number; bucketMs: number },
    now = Date.now(),
  ): Promise<{ buckets: StatsBucket[]; spendTodayNanos: number; spendMonthNanos: number }> {
    const teamId = this.scopeOf(actor);
    const db = this.sqlStore().db;
    const [buckets, spend] = await Promise.all([
      queryStatsBuckets(db, { ...range, teamId }),
      querySpend(db, teamId, periodStart('month', now), periodStart('day', now)),
    ]);
    return { buckets, spendTodayNanos: spend.dayNanos, spendMonthNanos: spend.sinceNanos };
  }

  /** Every budget-carrying scope the actor may see (keys not revoked, teams), with its current period's spend. */
  async budgets(actor: Identity, now = Date.now()): Promise<BudgetView[]> {
    const scope = this.scopeOf(actor);
    const db = this.sqlStore().db;
    const keys = (await this.store.listKeys()).filter((key) => key.state !== 'revoked' && (scope === null || key.team_id === scope));
    const teams = (await this.store.listTeams()).filter((team) => scope === null || team.id === scope);
    const spendCache = new Map<string, Promise<Map<string, number>>>();
    const spendIn = (kind: 'key' | 'team', period: BudgetPeriod): Promise<Map<string, number>> => {
      const cacheKey = `${kind}:${period}`;
      let pending = spendCache.get(cacheKey);
      if (pending === undefined) spendCache.set(cacheKey, (pending = querySpendBy(db, kind, periodStart(period, now), scope)));
      return pending;
    };
    const views: BudgetView[] = [];
    for (const team of teams) {
      const spent = (await spendIn('team', team.budget_period)).get(team.id) ?? 0;
      views.push({ scope: 'team', id: team.id, name: team.name, budget: team.budget, budget_period: team.budget_period, spent_nanos: spent, period_start: periodStart(team.budget_period, now) });
    }
    for (const key of keys) {
      const spent = (await spendIn('key', key.budget_period)).get(key.id) ?? 0;
      views.push({ scope: 'key', id: key.id, name: key.name, budget: key.budget, budget_period: key.budget_period, spent_nanos: spent, period_start: periodStart(key.budget_period, now) });
    }
    return views;
  }

  /** Requests per alias and deployment since `since`, fleet-wide (the routing's traffic split); any admin may read it. */
  async traffic(actor: Identity, since: number): Promise<Map<string, Map<string, number>>> {
    this.scopeOf(actor);
    return queryTraffic(this.sqlStore().db, since);
  }

  /** null: everything (master); a team id: only that team (admin key); others are refused. */
  teamScope(actor: Identity): string | null {
    return this.scopeOf(actor);
  }

  private sqlStore(): SqlGovernanceStore {
    if (this.store instanceof SqlGovernanceStore) return this.store;
    throw new GatewayError('route_not_found', { message: 'This report needs the SQL store.' });
  }

  /** null: everything (master); a team id: only that team (admin key). */
  private scopeOf(actor: Identity): string | null {
    if (actor.kind === 'master') return null;
    if (actor.kind === 'key' && actor.key.role === 'admin' && actor.key.team_id !== null) return actor.key.team_id;
    throw new GatewayError('forbidden', { message: 'The admin API needs the master key or an admin key of a team.' });
  }

  private keyTeamFor(actor: Identity, requested: string | null): string | null {
    const scope = this.scopeOf(actor);
    if (scope === null) return requested;
    if (requested !== null && requested !== scope) throw new GatewayError('forbidden', { message: 'An admin key can only create keys of its own team.' });
    return scope;
  }

  private async ownKey(actor: Identity, id: string): Promise<KeyRecord> {
    const scope = this.scopeOf(actor);
    const key = await this.store.getKey(id);
    if (key === null) throw new GatewayError('not_found', { message: `No key "${id}".` });
    if (scope !== null && key.team_id !== scope) throw new GatewayError('forbidden', { message: 'This key belongs to another team.' });
    return key;
  }

  private requireMaster(actor: Identity): void {
    if (actor.kind !== 'master') {
      this.scopeOf(actor);
      throw new GatewayError('forbidden', { message: 'Only the master key can change teams.' });
    }
  }

  private async audited(actor: Identity, kind: AdminAction['kind'], subject: string, teamId: string | null, changes: object): Promise<void> {
    await this.audit?.recordAdmin({ kind, actor, subject, teamId, changes: changes as Record<string, unknown> });
  }

  private async changed(event: ChangeEvent): Promise<void> {
    await this.directory.apply(event);
    await this.notifier.publish(event);
  }
}

/** A key's or team's budget beside its spend in the current period (money in nano-USD, times epoch ms). */
export interface BudgetView {
  readonly scope: 'key' | 'team';
  readonly id: string;
  readonly name: string | null;
  readonly budget: number | null;
  readonly budget_period: BudgetPeriod;
  readonly spent_nanos: number;
  readonly period_start: number;
}

/** The fields of `patch` that were given (undefined means "leave as it is"; null means "clear"). */
function definedOnly<T extends Record<string, unknown>>(patch: T): Partial<T> {
  const out: Partial<T> = {};
  for (const key of Object.keys(patch) as (keyof T)[]) if (patch[key] !== undefined) out[key] = patch[key];
  return out;
}
