import { z } from 'zod';
import { PII_TYPES, type PiiType } from './types.js';

/**
 * A privacy policy: what the guard does with personal data in a request. Configured per alias
 * (`models[].privacy`), per team and per key (`data_policy.privacy`); the key's fields override
 * the team's, the team's the alias's.
 */

export const PRIVACY_MODES = ['detect', 'redact', 'pseudonymize', 'block'] as const;
export type PrivacyMode = (typeof PRIVACY_MODES)[number];

const piiType = z.enum(PII_TYPES);

export const privacySchema = z.strictObject({
  mode: z.enum(PRIVACY_MODES).optional(),
  /** Types looked for; all when absent. */
  types: z.array(piiType).optional(),
  /** Minimum confidence (0..1) per type for a detection to count. */
  thresholds: z.partialRecord(piiType, z.number().min(0).max(1)).optional(),
  /** Also use compromise's English people finder (slower). */
  nlp: z.boolean().optional(),
});

export type PrivacyConfig = z.infer<typeof privacySchema>;

export interface PrivacyPolicy {
  readonly mode: PrivacyMode;
  readonly types: readonly PiiType[] | undefined;
  readonly thresholds: Readonly<Partial<Record<PiiType, number>>>;
  readonly nlp: boolean;
}

/** Merges the layers, least specific first; null when no layer sets a mode (no scanning at all). */
export function mergePrivacy(layers: readonly (PrivacyConfig | null | undefined)[]): PrivacyPolicy | null {
  let mode: PrivacyMode | undefined;
  let types: readonly PiiType[] | undefined;
  let thresholds: Partial<Record<PiiType, number>> = {};
  let nlp = false;
  for (const layer of layers) {
    if (layer === null || layer === undefined) continue;
    mode = layer.mode ?? mode;
    types = layer.types ?? types;
    thresholds = { ...thresholds, ...layer.thresholds };
    nlp = layer.nlp ?? nlp;
  }
  return mode === undefined ? null : { mode, types, thresholds, nlp };
}
