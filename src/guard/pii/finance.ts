import { crossSum, ibanChecksumValid, luhnValid, mod11_10CheckDigit, mod97, weightedSum } from './checksums.js';
import { contextBefore, eachMatch, looksLikeReference, type Detection } from './types.js';

/** IBANs (every country of the registry, mod 97), payment cards (Luhn) and EU VAT IDs. */

/** IBAN length per country (ISO 13616 registry). */
const IBAN_LENGTH: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28, CH: 21, CR: 22, CY: 28,
  CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FK: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23,
  GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32,
  LI: 21, LT: 20, LU: 20, LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20, MR: 27, MT: 31, MU: 30, NI: 28, NL: 18,
  NO: 15, OM: 23, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, RU: 33, SA: 24, SC: 31, SD: 18, SE: 24, SI: 19,
  SK: 24, SM: 27, SO: 23, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29, VA: 22, VG: 24, XK: 20, YE: 30,
};

const IBAN = /(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[ -]?[A-Za-z0-9]){11,32}/g;

export function detectIbans(text: string): Detection[] {
  const out: Detection[] = [];
  eachMatch(text, IBAN, (match) => {
    const country = match[0].slice(0, 2).toUpperCase();
    const length = IBAN_LENGTH[country];
    if (length === undefined) return null;
    // Take exactly the country's length of characters, whatever separators lie between them.
    let taken = 0;
    let end = 0;
    let compact = '';
    for (; end < match[0].length && taken < length; end++) {
      const char = match[0][end]!;
      if (char === ' ' || char === '-') continue;
      compact += char.toUpperCase();
      taken++;
    }
    if (taken < length || /[A-Za-z0-9]/.test(text[match.index + end] ?? '')) return null;
    if (!ibanChecksumValid(compact)) return null;
    return { type: 'iban', start: match.index, end: match.index + end, confidence: 0.99 };
  }, out);
  return out;
}

const CARD = /(?<![\d.,-])\d(?:[ -]?\d){12,18}(?![\d]|[.,-]\d)/g;

/** Issuer prefixes of the card networks; a Luhn-valid number outside them is not a card. */
function knownIssuer(digits: string): boolean {
  const two = Number(digits.slice(0, 2));
  const four = Number(digits.slice(0, 4));
  const n = digits.length;
  if (digits[0] === '4') return n === 13 || n === 16 || n === 19;
  if ((two >= 51 && two <= 55) || (four >= 2221 && four <= 2720)) return n === 16;
  if (two === 34 || two === 37) return n === 15;
  if (two === 36 || two === 38 || (four >= 3000 && four <= 3059)) return n === 14 || n === 16;
  if (two === 35 || two === 62 || digits.startsWith('6011') || two === 65 || (Number(digits.slice(0, 3)) >= 644 && Number(digits.slice(0, 3)) <= 649)) return n >= 16 && n <= 19;
  if (two === 50 || (two >= 56 && two <= 69)) return n >= 12 && n <= 19;
  return false;
}

export function detectCards(text: string): Detection[] {
  const out: Detection[] = [];
  eachMatch(text, CARD, (match) => {
    const candidate = match[0];
    const digits = candidate.replace(/[ -]/g, '');
    if (digits.length < 13 || !knownIssuer(digits) || !luhnValid(digits)) return null;
    // Separators, when present, group the digits the way cards print them (4-4-4-4, 4-6-5 …).
    const groups = candidate.split(/[ -]/);
    if (groups.length > 1 && (groups.some((group) => group.length < 4 || group.length > 6) || new Set(candidate.replace(/\d/g, '')).size > 1)) return null;
    const context = contextBefore(text, match.index, /(?:card|karte|visa|master|amex|kredit|credit|debit|zahl)\w*\W*$/i, 30);
    if (!context && looksLikeReference(text, match.index)) return null;
    return { type: 'card', start: match.index, end: match.index + candidate.length, confidence: context || groups.length > 1 ? 0.98 : 0.9 };
  }, out);
  return out;
}

/** VAT ID number checks per country; a country without one here is matched by structure only (low confidence). */
const VAT_CHECKS: Readonly<Record<string, { shape: RegExp; valid: ((id: string) => boolean) | null }>> = {
  AT: { shape: /^U\d{8}$/, valid: (id) => atVat(id.slice(1)) },
  BE: { shape: /^[01]\d{9}$/, valid: (id) => 97 - (Number(id.slice(0, 8)) % 97) === Number(id.slice(8)) },
  DE: { shape: /^\d{9}$/, valid: (id) => id[0] !== '0' && mod11_10CheckDigit(id.slice(0, 8)) === Number(id[8]) },
  DK: { shape: /^\d{8}$/, valid: (id) => weightedSum(id, [2, 7, 6, 5, 4, 3, 2, 1]) % 11 === 0 },
  FI: { shape: /^\d{8}$/, valid: fiVat },
  FR: { shape: /^[0-9A-HJ-NP-Z]{2}\d{9}$/, valid: frVat },
  IT: { shape: /^\d{11}$/, valid: luhnValid },
  LU: { shape: /^\d{8}$/, valid: (id) => Number(id.slice(0, 6)) % 89 === Number(id.slice(6)) },
  NL: { shape: /^\d{9}B\d{2}$/, valid: (id) => weightedSum(id, [9, 8, 7, 6, 5, 4, 3, 2]) % 11 === Number(id[8]) || mod97(`NL${id}`) === 1 },
  PL: { shape: /^\d{10}$/, valid: (id) => weightedSum(id, [6, 5, 7, 2, 3, 4, 5, 6, 7]) % 11 === Number(id[9]) },
  PT: { shape: /^\d{9}$/, valid: (id) => { const r = 11 - (weightedSum(id, [9, 8, 7, 6, 5, 4, 3, 2]) % 11); return (r >= 10 ? 0 : r) === Number(id[8]); } },
  SE: { shape: /^\d{10}01$/, valid: (id) => luhnValid(id.slice(0, 10)) },
  ES: { shape: /^[0-9A-Z]\d{7}[0-9A-Z]$/, valid: null },
  IE: { shape: /^\d[0-9A-Z+*]\d{5}[A-Z]{1,2}$/, valid: null },
  CZ: { shape: /^\d{8,10}$/, valid: null },
};

function atVat(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < 7; i++) {
    const d = digits.charCodeAt(i) - 48;
    sum += i % 2 === 0 ? d : crossSum(d * 2);
  }
  return (10 - ((sum + 4) % 10)) % 10 === Number(digits[7]);
}

function fiVat(id: string): boolean {
  const rest = weightedSum(id, [7, 9, 10, 5, 8, 4, 2]) % 11;
  if (rest === 1) return false;
  return (rest === 0 ? 0 : 11 - rest) === Number(id[7]);
}

function frVat(id: string): boolean {
  if (!/^\d{2}$/.test(id.slice(0, 2))) return true;
  const siren = Number(id.slice(2));
  return (12 + 3 * (siren % 97)) % 97 === Number(id.slice(0, 2));
}

const VAT = /(?<![A-Za-z0-9])(AT|BE|DE|DK|FI|FR|IT|LU|NL|PL|PT|SE|ES|IE|CZ)[ ]?([0-9A-Z+*]{8,12})(?![A-Za-z0-9])/g;

export function detectVatIds(text: string): Detection[] {
  const out: Detection[] = [];
  eachMatch(text, VAT, (match) => {
    const check = VAT_CHECKS[match[1]!]!;
    const id = match[2]!;
    if (!check.shape.test(id)) return null;
    const context = contextBefore(text, match.index, /(?:vat|ust|umsatzsteuer|mwst|tva|iva|btw|steuer)\S*\W*$/i, 30);
    if (check.valid === null) return { type: 'vat_id', start: match.index, end: match.index + match[0].length, confidence: context ? 0.8 : 0.5 };
    if (!check.valid(id)) return null;
    return { type: 'vat_id', start: match.index, end: match.index + match[0].length, confidence: context ? 0.99 : 0.95 };
  }, out);
  return out;
}
