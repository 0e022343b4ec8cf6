import { GatewayError } from '../core/errors.js';
import type { Identity } from './keys.js';
import { mergePrivacy, privacySchema, type PrivacyConfig, type PrivacyPolicy } from './pii/policy.js';
import type { KeyRecord, TeamRecord } from './types.js';

/**
 * The data policy of a key and its team (`data_policy`, stored as given): `privacy` for the PII
 * guard, `residency` for routing and `log_bodies` for the body log (src/audit/body-log.ts). A
 * team's policy is its `data_policy` column; teams written before that column existed kept it
 * in `metadata.data_policy`, which is still read when the column is empty.
 */

type PolicyRecord = Readonly<Record<string, unknown>>;

function keyPolicy(key: KeyRecord): PolicyRecord | null {
  return key.data_policy;
}

function teamPolicy(team: TeamRecord | null): PolicyRecord | null {
  if (team === null) return null;
  const own = team.data_policy ?? team.metadata.data_policy;
  return own !== null && typeof own === 'object' ? (own as PolicyRecord) : null;
}

const parsedPrivacy = new WeakMap<PolicyRecord, PrivacyConfig | null>();

/** A stored policy that cannot be read fails closed: the request is refused, nothing is sent. */
function privacyOf(policy: PolicyRecord | null, who: string): PrivacyConfig | null {
  if (policy === null || policy.privacy === undefined || policy.privacy === null) return null;
  let parsed = parsedPrivacy.get(policy);
  if (parsed === undefined) {
    const result = privacySchema.safeParse(policy.privacy);
    parsed = result.success ? result.data : null;
    parsedPrivacy.set(policy, parsed);
  }
  if (parsed === null) throw new GatewayError('forbidden', { message: `The privacy policy of this ${who} is invalid; an administrator must correct it.` });
  return parsed;
}

/** The policy for this request: the alias's, overridden field by field by the team's, then the key's. */
export function privacyPolicyFor(identity: Identity, alias: PrivacyConfig | undefined): PrivacyPolicy | null {
  if (identity.kind !== 'key') return mergePrivacy([alias]);
  return mergePrivacy([alias, privacyOf(teamPolicy(identity.team), 'team'), privacyOf(keyPolicy(identity.key), 'key')]);
}

/** Regions a request may be sent to: every present list (key's, team's) must allow the region. */
export class Residency {
  constructor(readonly lists: readonly (readonly string[])[]) {}

  allows(region: string | null): boolean {
    return region !== null && this.lists.every((list) => list.includes(region));
  }

  describe(): string {
    return this.lists.map((list) => list.join(', ')).join(' and ');
  }
}

function residencyList(policy: PolicyRecord | null): readonly string[] | null {
  const value = policy?.residency;
  if (value === undefined || value === null) return null;
  // Anything but a list of region names allows nothing: a broken policy must not widen where data goes.
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/** The residency of the identity, or null when neither key nor team restricts regions. */
export function residencyOf(identity: Identity): Residency | null {
  if (identity.kind !== 'key') return null;
  const lists = [residencyList(identity.key.data_policy), residencyList(teamPolicy(identity.team))].filter((list) => list !== null);
  return lists.length === 0 ? null : new Residency(lists);
}

/**
 * Whether the request's prompt and completion are kept (redacted): the key's `log_bodies` when it
 * sets one, else the team's; off unless one says exactly `true`.
 */
export function logBodiesFor(identity: Identity): boolean {
  if (identity.kind !== 'key') return false;
  const own = identity.key.data_policy?.log_bodies;
  if (own !== undefined && own !== null) return own === true;
  return teamPolicy(identity.team)?.log_bodies === true;
}
