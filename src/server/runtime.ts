import { createHash, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config/schema.js';
import { RouteTable } from '../routing/route-table.js';
import { DeploymentStates } from '../routing/deployment-state.js';
import type { Governance } from '../guard/governance.js';

/**
 * One loaded config, ready to serve: the route table, the master key's hash and precomputed
 * answers. A reload builds a new Runtime and swaps it in; requests keep the one they started with.
 */
export class Runtime {
  readonly routes: RouteTable;
  /** Body of GET /v1/models, built once. */
  readonly modelsBody: string;
  private readonly masterKeyHash: Buffer | null;

  constructor(
    readonly config: Config,
    states: DeploymentStates = new DeploymentStates(),
    /** Keys, limits, budgets and the request log; process-wide, shared by every runtime (set once opened). */
    public governance: Governance | null = null,
  ) {
    this.routes = RouteTable.build(config, states);
    this.masterKeyHash = config.auth.master_key === undefined ? null : sha256(config.auth.master_key);
    const created = Math.floor(Date.now() / 1000);
    this.modelsBody = JSON.stringify({
      object: 'list',
      data: config.models.map((model) => ({ id: model.name, object: 'model', created, owned_by: 'stellwerk' })),
    });
  }

  get authRequired(): boolean {
    return this.masterKeyHash !== null;
  }

  /** Constant-time comparison of a presented key with the master key (both hashed to equal length). */
  isMasterKey(presented: string): boolean {
    if (this.masterKeyHash === null) return false;
    return timingSafeEqual(sha256(presented), this.masterKeyHash);
  }

  close(): Promise<void> {
    return this.routes.close();
  }
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
