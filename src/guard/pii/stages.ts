import { GatewayError } from '../../core/errors.js';
import type { Config } from '../../config/schema.js';
import type { Stage } from '../../server/lifecycle.js';
import { privacyPolicyFor } from '../data-policy.js';
import { guardBody } from './guard.js';
import type { PrivacyConfig } from './policy.js';
import { restoreResult } from './restore.js';

/** The privacy policies of a running config's aliases, looked up once per config. */
const aliasPolicies = new WeakMap<Config, Map<string, PrivacyConfig>>();

function aliasPolicy(config: Config, alias: string): PrivacyConfig | undefined {
  let policies = aliasPolicies.get(config);
  if (policies === undefined) {
    policies = new Map();
    for (const model of config.models) if (model.privacy !== undefined) policies.set(model.name, model.privacy);
    aliasPolicies.set(config, policies);
  }
  return policies.get(alias);
}

/**
 * Scans every text the request sends upstream and applies the policy of alias, team and key:
 * detect (count only), redact, pseudonymize (restored by `restorePrivacy`) or block (400).
 */
export const guardPrivacy: Stage = (ctx) => {
  const policy = privacyPolicyFor(ctx.identity, aliasPolicy(ctx.runtime.config, ctx.alias!.name));
  if (policy === null) return;
  const report = guardBody(ctx.body, policy);
  ctx.pii = report;
  const types = Object.keys(report.counts);
  if (policy.mode === 'block' && types.length > 0) {
    throw new GatewayError('pii_detected', {
      message: `The request contains personal data (${types.join(', ')}); the privacy policy of this model or key blocks it.`,
      param: 'messages',
    });
  }
};

/** Puts the originals back in place of the placeholders, in a whole answer or a stream, before it is answered. */
export const restorePrivacy: Stage = (ctx) => {
  const pseudonyms = ctx.pii?.pseudonyms;
  if (pseudonyms === null || pseudonyms === undefined || ctx.result === null) return;
  ctx.result = restoreResult(ctx.result, pseudonyms);
};
