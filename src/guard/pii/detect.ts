import { detectEmails, detectPhones, PHONE_MAX_CONFIDENCE } from './contact.js';
import { detectAddresses, detectDatesOfBirth, detectLicencePlates } from './context.js';
import { detectCards, detectIbans, detectVatIds } from './finance.js';
import { detectHealthInsurance, detectIdCards, detectPassports, detectSocialSecurity, detectSsns, detectTaxIds } from './identity.js';
import { detectNames } from './names.js';
import { detectIpAddresses } from './network.js';
import { DEFAULT_THRESHOLD, PII_TYPES, type Detection, type Detector, type PiiType } from './types.js';

/** Which detector finds which type; one detector per type keeps `types` cheap to honour. */
const DETECTORS: Readonly<Record<Exclude<PiiType, 'person' | 'phone'>, Detector>> = {
  email: detectEmails,
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
  const byType: Detection[][] = [];
  const found: Detection[] = [];
  const keep = (type: PiiType, detections: readonly Detection[]): Detection[] => {
    const threshold = options.thresholds?.[type] ?? DEFAULT_THRESHOLD;
    const kept: Detection[] = [];
    for (const detection of detections) if (detection.confidence >= threshold && detection.end > detection.start) kept.push(detection);
    return kept;
  };
  let phoneAt = -1;
  for (const type of types) {
    if (type === 'phone') {
      phoneAt = byType.length;
      byType.push([]);
      continue;
    }
    const kept = keep(type, type === 'person' ? detectNames(text, options.nlp === true) : DETECTORS[type](text));
    byType.push(kept);
    for (const detection of kept) found.push(detection);
  }
  if (phoneAt < 0) return withoutOverlaps(found);
  // Phones last (see certainWinners), but in their place of the type order, which breaks exact ties.
  byType[phoneAt] = keep('phone', detectPhones(text, certainWinners(found)));
  return withoutOverlaps(byType.flat());
}

/**
 * Fast path for phones, the costliest check (libphonenumber): detections more certain than any
 * phone are settled among themselves before any phone is looked at (the overlap rule takes the
 * more certain first), so a phone candidate overlapping one that is kept cannot survive and need
 * not be validated — typically the digit groups of an IBAN or a card.
 */
function certainWinners(found: readonly Detection[]): ((start: number, end: number) => boolean) | undefined {
  const certain = withoutOverlaps(found.filter((detection) => detection.confidence > PHONE_MAX_CONFIDENCE));
  if (certain.length === 0) return undefined;
  return (start, end) => certain.some((other) => start < other.end && other.start < end);
}

function withoutOverlaps(found: Detection[]): Detection[] {
  if (found.length <= 1) return found;
  found.sort((a, b) => b.confidence - a.confidence || b.end - b.start - (a.end - a.start) || a.start - b.start);
  // Kept detections never overlap, so in start order their ends ascend too: whether a new one
  // overlaps any is decided by its neighbours (binary search; a PII-dense prompt has hundreds).
  const kept: Detection[] = [];
  for (const detection of found) {
    let low = 0;
    let high = kept.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (kept[middle]!.start < detection.end) low = middle + 1;
      else high = middle;
    }
    // kept[low - 1] is the last one starting before this one ends: the only one that can overlap it.
    if (low > 0 && kept[low - 1]!.end > detection.start) continue;
    kept.splice(low, 0, detection);
  }
  return kept;
}
