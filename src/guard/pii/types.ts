/**
 * The personal-data types the privacy guard knows, and what a detector reports. Detectors are
 * pure functions of the text: offline, no state, no external service.
 */

export const PII_TYPES = [
  'email',
  'phone',
  'iban',
  'card',
  'vat_id',
  'tax_id',
  'id_card',
  'passport',
  'social_security',
  'health_insurance',
  'ssn',
  'ip_address',
  'date_of_birth',
  'address',
  'licence_plate',
  'person',
] as const;

export type PiiType = (typeof PII_TYPES)[number];

/** Types found by a checksum or a strict structure (the precision/recall targets differ). */
export const CHECKSUM_TYPES: readonly PiiType[] = ['email', 'phone', 'iban', 'card', 'vat_id', 'tax_id', 'id_card', 'passport', 'social_security', 'health_insurance', 'ssn', 'ip_address'];

export interface Detection {
  readonly type: PiiType;
  /** UTF-16 offsets into the scanned text, end exclusive. */
  readonly start: number;
  readonly end: number;
  /** 0..1: how sure the detector is; compared with the type's threshold. */
  readonly confidence: number;
}

export type Detector = (text: string) => Detection[];

/** Threshold of every type unless configured otherwise. */
export const DEFAULT_THRESHOLD = 0.7;

/** Whether `pattern` occurs within `window` characters before `start` (context words). */
export function contextBefore(text: string, start: number, pattern: RegExp, window = 40): boolean {
  return pattern.test(text.slice(Math.max(0, start - window), start));
}

/** Words that make a number an order, invoice or version number rather than personal data. */
const NOT_PERSONAL = /\b(?:order|invoice|ticket|article|item|sku|version|ver\.|build|ref(?:erence)?|bestell\w*|rechnung\w*|artikel\w*|auftrag\w*|vorgang\w*|kundennummer|version|v)[\s.:#-]*(?:no\.?|nr\.?|number|nummer)?[\s.:#-]*$/i;

export function looksLikeReference(text: string, start: number): boolean {
  return NOT_PERSONAL.test(text.slice(Math.max(0, start - 30), start));
}

/** ECMAScript `\s`, by code unit (for scanning without a regex call per character). */
export function isWhiteSpace(code: number): boolean {
  return (
    code === 32 || (code >= 9 && code <= 13) || code === 0xa0 || code === 0x1680 || (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 || code === 0x2029 || code === 0x202f || code === 0x205f || code === 0x3000 || code === 0xfeff
  );
}

/** Runs a global regex and maps each match (with its groups) to detections. */
export function eachMatch(text: string, pattern: RegExp, visit: (match: RegExpExecArray) => Detection | null, out: Detection[]): void {
  pattern.lastIndex = 0;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    const detection = visit(match);
    if (detection !== null) out.push(detection);
    if (match[0].length === 0) pattern.lastIndex++;
  }
}

/**
 * Runs a sticky pattern at the candidate places (ascending), left to right, never inside its own
 * previous match: the same matches as running it globally over the whole text, at a fraction of
 * the cost when the candidates are few.
 */
export function eachMatchAt(text: string, starts: readonly number[], pattern: RegExp, visit: (match: RegExpExecArray) => Detection | null, out: Detection[]): void {
  let from = 0;
  for (const start of starts) {
    if (start < from) continue;
    pattern.lastIndex = start;
    const match = pattern.exec(text);
    if (match === null) continue;
    from = start + match[0].length;
    const detection = visit(match);
    if (detection !== null) out.push(detection);
  }
}
