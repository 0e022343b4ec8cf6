import type { Deployment } from '../routing/deployment.js';
import type { Backend } from './backend.js';
import type { FleetRouting, FleetSnapshot } from './fleet.js';
import { promptBlockHashes } from './prefix-hash.js';

const DEFAULT_ROUTING: FleetRouting = {
  weights: { queue: 1, kv: 1, prefix: 1, lora: 1, work: 1 },
  imbalance: 0.5,
  blockChars: 256,
  maxBlocks: 512,
};

const NO_BLOCKS: readonly number[] = [];

/**
 * What the fleet strategies know of one request: each deployment's server, the alias's fleet
 * settings, and the prompt's block hashes — hashed at most once per alias, and only when a
 * strategy asks. Built lazily by the attempt loop, so other strategies pay nothing.
 */
export class RequestFleet {
  private blocksAlias: string | null = null;
  private blocks: readonly number[] = NO_BLOCKS;

  constructor(
    private readonly snapshot: FleetSnapshot | undefined,
    private readonly body: unknown,
  ) {}

  backendOf(deployment: Deployment): Backend | null {
    return this.snapshot?.backendByDeployment.get(deployment.name) ?? null;
  }

  routingOf(alias: string): FleetRouting {
    return this.snapshot?.routingByAlias.get(alias) ?? DEFAULT_ROUTING;
  }

  /** The prompt's chained block hashes, seeded by the alias (one model's cache never serves another's). */
  promptBlocks(alias: string): readonly number[] {
    if (this.blocksAlias !== alias) {
      const routing = this.routingOf(alias);
      this.blocks = promptBlockHashes(this.body, alias, routing.blockChars, routing.maxBlocks);
      this.blocksAlias = alias;
    }
    return this.blocks;
  }

  /** Leading blocks of the prompt that `backend` served recently. */
  matchedBlocks(backend: Backend, alias: string): number {
    const blocks = this.promptBlocks(alias);
    let matched = 0;
    while (matched < blocks.length && backend.recentBlocks.has(blocks[matched]!)) matched++;
    return matched;
  }

  /**
   * The strategy chose `deployment`: its server counts the request until the next scrape and
   * remembers the prompt's blocks (when they were hashed), as its own prefix cache will.
   */
  notePick(deployment: Deployment, now: number): void {
    const backend = this.backendOf(deployment);
    if (backend === null) return;
    backend.notePick(deployment.name, now);
    if (this.blocksAlias === deployment.alias) for (const block of this.blocks) backend.recentBlocks.touch(block);
  }
}
