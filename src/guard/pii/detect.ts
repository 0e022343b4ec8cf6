import { detectEmails, detectPhones } from './contact.js';
import { detectAddresses, detectDatesOfBirth, detectLicencePlates } from './context.js';
import { detectCards, detectIbans, detectVatIds } from './finance.js';
import { detectHealthInsurance, detectIdCards, detectPassports, detectSocialSecurity, detectSsns, detectTaxIds } from './identity.js';
import { detectNames } from './names.js';
import { detectIpAddresses } from './network.js';
import { DEFAULT_THRESHOLD, PII_TYPES, type Detection, type Detector, type PiiType } from './types.js';

/** Which detector finds which type; one detector per type keeps `types` cheap to honour. */
const DETECTORS: Readonly<Record<Exclude<PiiType, 'person'>, Detector>> = {
  email: detectEmails,
  phone: detectPhones,
  iban: detectIbans,
  card: detectCards,
  vat_id: detectVatIds,
  tax_id: detectTaxIds,
  id_card: detectIdCards,
  passport: detectPassports,
  social_security: detectSocialSecurity,
  health_insurance: detectHealthInsurance,
  ssn: detectSsns,
  ip_address: detectIpAddresses,
  date_of_birth: detectDatesOfBirth,
  address: detectAddresses,
  licence_plate: detectLicencePlates,
};

export interface ScanOptions {
  /** Types looked for; all when absent. */
  readonly types?: readonly PiiType[] | undefined;
  /** Minimum confidence per type; DEFAULT_THRESHOLD for the others. */
  readonly thresholds?: Readonly<Partial<Record<PiiType, number>>> | undefined;
  /** Also ask compromise for English person names (slower; see docs/privacy.md). */
  readonly nlp?: boolean | undefined;
}

/**
 * Every piece of personal data in `text` at or above its type's threshold, without overlaps
 * (the more certain detection wins, then the longer), in text order.
 */
export function detectPii(text: string, options: ScanOptions = {}): Detection[] {
  const types = options.types ?? PII_TYPES;
  const found: Detection[] = [];
  for (const type of types) {
    const detections = type === 'person' ? detectNames(text, options.nlp === true) : DETECTORS[type](text);
    const threshold = options.thresholds?.[type] ?? DEFAULT_THRESHOLD;
    for (const detection of detections) if (detection.confidence >= threshold && detection.end > detection.start) found.push(detection);
  }
  return withoutOverlaps(found);
}

function withoutOverlaps(found: Detection[]): Detection[] {
  if (found.length <= 1) return found;
  found.sort((a, b) => b.confidence - a.confidence || b.end - b.start - (a.end - a.start) || a.start - b.start);
  const kept: Detection[] = [];
  for (const detection of found) {
    if (!kept.some((other) => detection.start < other.end && other.start < detection.end)) kept.push(detection);
  }
  return kept.sort((a, b) => a.start - b.start);
}
