/**
 * The governance model: teams and virtual keys with their limits and budgets. Money is counted
 * in integer nano-USD (1e-9 USD) everywhere, so that sums are exact.
 */

export type BudgetPeriod = 'day' | 'week' | 'month' | 'total';

/** USD → nano-USD, rounded to the nearest nano. */
export function toNanos(usd: number): number {
  return Math.round(usd * 1e9);
}

export function fromNanos(nanos: number): number {
  return nanos / 1e9;
}

/** Limits a key or a team may carry; null means "no limit". */
export interface Limits {
  readonly rpm: number | null;
  readonly tpm: number | null;
  readonly max_parallel: number | null;
  /** Budget in USD per `budget_period`. */
  readonly budget: number | null;
  readonly budget_period: BudgetPeriod;
}

export interface TeamRecord extends Limits {
  readonly id: string;
  readonly name: string;
  /** Aliases the team's keys may use; null: all. */
  readonly models: readonly string[] | null;
  readonly metadata: Readonly<Record<string, unknown>>;
  /** The team's data policy (privacy, residency, log_bodies), stored as given; see guard/data-policy.ts. */
  readonly data_policy?: Readonly<Record<string, unknown>> | null;
  readonly state: 'active' | 'blocked';
  /** Epoch milliseconds. */
  readonly created_at: number;
  readonly updated_at: number;
}

export type KeyState = 'active' | 'blocked' | 'revoked';
export type KeyRole = 'user' | 'admin';

export interface KeyRecord extends Limits {
  readonly id: string;
  /** HMAC-SHA256 of the key with the server's pepper, hex. The key itself is never stored. */
  readonly hash: string;
  /** The first characters of the key (e.g. `sk-stw-3fA9`), to recognise it in lists. */
  readonly prefix: string;
  readonly name: string | null;
  readonly team_id: string | null;
  /** `admin` keys may manage the keys of their own team through the admin API. */
  readonly role: KeyRole;
  readonly models: readonly string[] | null;
  readonly expires_at: number | null;
  readonly metadata: Readonly<Record<string, unknown>>;
  /** Used by the privacy guard (PII, residency); stored as given. */
  readonly data_policy: Readonly<Record<string, unknown>> | null;
  readonly state: KeyState;
  readonly created_at: number;
  readonly updated_at: number;
  /** After a rotation: the old key's hash, valid until `previous_expires_at`. */
  readonly previous_hash: string | null;
  readonly previous_expires_at: number | null;
}
