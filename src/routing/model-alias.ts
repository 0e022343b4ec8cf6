import type { Deployment } from './deployment.js';

/** A model name clients use, and the deployments that serve it, in the order of preference. */
export class ModelAlias {
  constructor(
    readonly name: string,
    readonly deployments: readonly Deployment[],
    /** Deployments configured but not usable (e.g. a missing key), with the reason; for error messages. */
    readonly unusable: readonly string[],
  ) {}

  /**
   * The first healthy deployment; when none is healthy, the one that recovers first (a request
   * is never refused just because every deployment failed recently). Null only when there is none.
   */
  pickDeployment(now: number): Deployment | null {
    let soonest: Deployment | null = null;
    for (const deployment of this.deployments) {
      if (deployment.isHealthy(now)) return deployment;
      if (soonest === null || deployment.healthyAt() < soonest.healthyAt()) soonest = deployment;
    }
    return soonest;
  }
}
