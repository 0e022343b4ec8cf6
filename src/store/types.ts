import type { KeyRecord, TeamRecord } from '../guard/types.js';
import type { RequestLogPage, RequestLogQuery } from './request-log.js';

/** One answered request, as the request log and the spend keep it. */
export interface RequestRow {
  /** The request id (x-request-id). */
  readonly id: string;
  /** Epoch milliseconds when the request arrived. */
  readonly ts: number;
  readonly key_id: string | null;
  readonly team_id: string | null;
  readonly alias: string | null;
  readonly deployment: string | null;
  readonly endpoint: string;
  readonly status: number;
  readonly stream: boolean;
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  /** Settled cost in nano-USD (1e-9 USD), exact. */
  readonly cost_nanos: number;
  readonly latency_ms: number;
  readonly ttft_ms: number | null;
  readonly error_code: string | null;
  /** Estimated facility energy in Wh (docs/energy.md); null or absent when unknown. */
  readonly energy_wh?: number | null;
  /** Estimated emissions in micrograms CO₂e (whole numbers sum exactly); null or absent when unknown. */
  readonly co2e_ug?: number | null;
  /** Whether the tokens were counted or estimated by the gateway rather than reported by the provider. */
  readonly usage_estimated?: boolean;
  /** The region of the deployment that answered (docs/audit.md); null or absent when unknown. */
  readonly region?: string | null;
  /** PII types the privacy guard found, with counts (never values); null or absent when it did not scan. */
  readonly pii_types?: Readonly<Record<string, number>> | null;
  /** The upstream attempts in order (docs/observability.md); null or absent when none was made. */
  readonly attempts?: readonly AttemptRecord[] | null;
  /**
   * The id the client was given (`x-request-id`), for the request's audit entry, which is
   * written with the row (docs/audit.md). Not a column: absent on rows read back.
   */
  readonly request_id?: string | null;
}

/** One upstream attempt of a request, as the request log keeps it. */
export interface AttemptRecord {
  readonly deployment: string;
  /** The upstream's HTTP status; null when none came (a timeout, a reset, the client leaving). */
  readonly status: number | null;
  /** The error code the attempt ended with; null when it succeeded. */
  readonly error_code: string | null;
  readonly latency_ms: number;
}

export type UsageGroup = 'key' | 'team' | 'alias' | 'deployment' | 'day';

export interface UsageQuery {
  readonly groupBy: UsageGroup;
  /** Epoch ms, inclusive; null: from the beginning. */
  readonly from: number | null;
  /** Epoch ms, exclusive; null: up to now. */
  readonly to: number | null;
  /** Only this team's requests (for team admins). */
  readonly teamId?: string | null;
}

export interface UsageRow {
  /** The group's value: key id, team id, alias, deployment, or day (YYYY-MM-DD, UTC). */
  readonly group: string | null;
  readonly requests: number;
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly cost_nanos: number;
  /** Sum of the known energy figures, Wh. */
  readonly energy_wh: number;
  /** Sum of the known CO₂e figures, micrograms. */
  readonly co2e_ug: number;
  /** Requests whose usage the gateway estimated. */
  readonly estimated_requests: number;
}

/** What changed, for the other replicas' caches. */
export type ChangeEvent = { readonly kind: 'key'; readonly id: string } | { readonly kind: 'team'; readonly id: string };

/**
 * The governance store: keys, teams, the request log and spend. Implemented on SQLite (embedded
 * default) and Postgres with the same schema and migrations. Nothing here is called per request
 * on the hot path: keys are read into memory at start and on change notifications, and request
 * rows arrive in batches from the writer.
 */
export interface GovernanceStore {
  readonly kind: 'sqlite' | 'postgres';
  /** Applies pending migrations. */
  migrate(): Promise<void>;

  listKeys(): Promise<KeyRecord[]>;
  getKey(id: string): Promise<KeyRecord | null>;
  insertKey(key: KeyRecord): Promise<void>;
  /** Replaces the record with the same id; false if there is none. */
  updateKey(key: KeyRecord): Promise<boolean>;

  listTeams(): Promise<TeamRecord[]>;
  getTeam(id: string): Promise<TeamRecord | null>;
  insertTeam(team: TeamRecord): Promise<void>;
  updateTeam(team: TeamRecord): Promise<boolean>;
  /** False if there is none; keys of the team keep existing with team_id set to null. */
  deleteTeam(id: string): Promise<boolean>;

  /** Inserts a batch in one transaction; a row whose id exists already is skipped (retries are safe). */
  insertRequests(rows: readonly RequestRow[]): Promise<void>;
  usage(query: UsageQuery): Promise<UsageRow[]>;
  /** Sum of cost_nanos of a key's or team's requests since `since` (epoch ms), to seed budget counters. */
  spendSince(scope: 'key' | 'team', id: string, since: number): Promise<number>;
  /** Deletes request rows older than `before` (epoch ms); returns how many. */
  deleteRequestsBefore(before: number): Promise<number>;
  /** One page of the request log, newest first (src/store/request-log.ts). */
  searchRequests(query: RequestLogQuery): Promise<RequestLogPage>;
  /** One request row by id; null when there is none. */
  getRequest(id: string): Promise<RequestRow | null>;

  close(): Promise<void>;
}

/** Tells every replica what changed (Redis pub/sub, Postgres LISTEN/NOTIFY, or in-process). */
export interface ChangeNotifier {
  publish(event: ChangeEvent): Promise<void>;
  subscribe(listener: (event: ChangeEvent) => void): void;
  /**
   * Called after the notifier's connection came back: events published meanwhile may have
   * been missed, so a cache should reload everything. Never called by the in-process notifier.
   */
  onResync?(listener: () => void): void;
  close(): Promise<void>;
}
