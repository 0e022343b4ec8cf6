import { detectPii } from './detect.js';
import type { PrivacyMode, PrivacyPolicy } from './policy.js';
import { Pseudonyms } from './pseudonyms.js';
import { textSlots } from './request-text.js';
import type { Detection, PiiType } from './types.js';

/** What the guard did to one request: counts per type (never the values) and the placeholders to restore. */
export interface PiiReport {
  readonly mode: PrivacyMode;
  readonly counts: Partial<Record<PiiType, number>>;
  /** Set in pseudonymize mode when something was replaced. */
  readonly pseudonyms: Pseudonyms | null;
}

/**
 * Scans every text of the body and applies the policy's mode in place. `block` changes nothing
 * and reports what it found; the caller refuses the request.
 */
export function guardBody(body: unknown, policy: PrivacyPolicy): PiiReport {
  const slots = textSlots(body);
  const counts: Partial<Record<PiiType, number>> = {};
  const pseudonyms = policy.mode === 'pseudonymize' ? new Pseudonyms() : null;
  if (pseudonyms !== null) for (const slot of slots) pseudonyms.reserveLiterals(slot.text);
  const options = { types: policy.types, thresholds: policy.thresholds, nlp: policy.nlp };
  for (const slot of slots) {
    const detections = detectPii(slot.text, options);
    if (detections.length === 0) continue;
    for (const detection of detections) counts[detection.type] = (counts[detection.type] ?? 0) + 1;
    if (policy.mode === 'redact') slot.replace(replaced(slot.text, detections, (d) => `[${d.type.toUpperCase()}]`));
    else if (pseudonyms !== null) slot.replace(replaced(slot.text, detections, (d, value) => pseudonyms.placeholderFor(d.type, value)));
  }
  return { mode: policy.mode, counts, pseudonyms: pseudonyms !== null && pseudonyms.size > 0 ? pseudonyms : null };
}

function replaced(text: string, detections: readonly Detection[], substitute: (detection: Detection, value: string) => string): string {
  let out = '';
  let at = 0;
  for (const detection of detections) {
    out += text.slice(at, detection.start) + substitute(detection, text.slice(detection.start, detection.end));
    at = detection.end;
  }
  return out + text.slice(at);
}
