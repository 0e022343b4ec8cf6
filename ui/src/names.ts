import { get, type List } from './api';

/** The limits a key and a team both carry; null means no limit. */
export interface Limits {
  models: string[] | null;
  rpm: number | null;
  tpm: number | null;
  max_parallel: number | null;
  budget: number | null;
  budget_period: 'day' | 'week' | 'month' | 'total';
}

export interface KeyRow extends Limits {
  id: string;
  prefix: string;
  name: string | null;
  team_id: string | null;
  role: 'user' | 'admin';
  expires_at: string | null;
  metadata: Record<string, unknown>;
  data_policy: Record<string, unknown> | null;
  state: 'active' | 'blocked' | 'revoked';
  created_at: string;
  updated_at: string;
  rotated: boolean;
}

export interface TeamRow extends Limits {
  id: string;
  name: string;
  metadata: Record<string, unknown>;
  data_policy?: Record<string, unknown> | null;
  state: 'active' | 'blocked';
  created_at: string;
  updated_at: string;
}

export interface Directory {
  readonly keys: KeyRow[];
  readonly teams: TeamRow[];
  keyName(id: string | null | undefined): string;
  teamName(id: string | null | undefined): string;
}

/** Keys and teams, so that pages can show names where the API gives ids. */
export async function loadDirectory(): Promise<Directory> {
  const [keys, teams] = await Promise.all([get<List<KeyRow>>('/admin/keys'), get<List<TeamRow>>('/admin/teams')]);
  const keyNames = new Map(keys.data.map((key) => [key.id, key.name ? `${key.name} (${key.prefix}…)` : `${key.prefix}…`]));
  const teamNames = new Map(teams.data.map((team) => [team.id, team.name]));
  return {
    keys: keys.data,
    teams: teams.data,
    keyName: (id) => (id == null ? '–' : (keyNames.get(id) ?? id)),
    teamName: (id) => (id == null ? '–' : (teamNames.get(id) ?? id)),
  };
}
