import { crossSum, icaoCheckDigit, mod11_10CheckDigit } from './checksums.js';
import { contextBefore, eachMatch, looksLikeReference, type Detection } from './types.js';

/**
 * Identity numbers: German tax ID, ID card and passport, pension insurance (social security) and
 * health insurance numbers, and the US SSN.
 */

const TAX_ID = /(?<![\d.,-])[1-9]\d(?: ?\d{3}){3}(?![\d]|[.,-]\d)/g;
const TAX_CONTEXT = /(?:steuer|idnr|id-nr|identifikationsnummer|tin|tax)\S*\W*$/i;

/**
 * Steuer-IdNr: 11 digits, the first not 0; among the first ten exactly one digit occurs twice or
 * three times (three times never in a row), the others at most once; the last is ISO 7064 MOD 11,10.
 */
export function taxIdValid(id: string): boolean {
  if (!/^[1-9]\d{10}$/.test(id)) return false;
  const counts = new Array<number>(10).fill(0);
  for (let i = 0; i < 10; i++) counts[id.charCodeAt(i) - 48]!++;
  const repeated = counts.filter((count) => count > 1);
  if (repeated.length !== 1 || repeated[0]! > 3) return false;
  if (repeated[0] === 3 && /(\d)\1\1/.test(id.slice(0, 10))) return false;
  return mod11_10CheckDigit(id.slice(0, 10)) === Number(id[10]);
}

export function detectTaxIds(text: string): Detection[] {
  const out: Detection[] = [];
  eachMatch(text, TAX_ID, (match) => {
    const id = match[0].replace(/ /g, '');
    if (!taxIdValid(id)) return null;
    const context = contextBefore(text, match.index, TAX_CONTEXT, 40);
    if (!context && looksLikeReference(text, match.index)) return null;
    return { type: 'tax_id', start: match.index, end: match.index + match[0].length, confidence: context ? 0.99 : 0.85 };
  }, out);
  return out;
}

/** Characters of German document numbers (no vowels, no B, D, Q, S). */
const DOC = '[CFGHJKLMNPRTVWXYZ0-9]';
const ID_CARD = new RegExp(`(?<![A-Za-z0-9])[LMNPRTVWXY]${DOC}{8}\\d?(?![A-Za-z0-9])`, 'g');
const PASSPORT = new RegExp(`(?<![A-Za-z0-9])C${DOC}{8}\\d?(?![A-Za-z0-9])`, 'g');
const ID_CONTEXT = /(?:ausweis|personalausweis|perso|id[- ]?card|identity card|identity document|dokumentennummer|document number)\S*\W*$/i;
const PASSPORT_CONTEXT = /(?:pass|reisepass|passport|passnummer)\S*\W*$/i;

function documentNumbers(text: string, pattern: RegExp, type: 'id_card' | 'passport', contextWords: RegExp): Detection[] {
  const out: Detection[] = [];
  eachMatch(text, pattern, (match) => {
    const id = match[0];
    if (!/\d/.test(id.slice(1, 9))) return null;
    const context = contextBefore(text, match.index, contextWords, 40);
    if (id.length === 10) {
      // With its check digit (as printed in the machine-readable zone) the number proves itself.
      if (icaoCheckDigit(id.slice(0, 9)) !== Number(id[9])) return null;
      if (!context && looksLikeReference(text, match.index)) return null;
      return { type, start: match.index, end: match.index + 10, confidence: context ? 0.99 : 0.9 };
    }
    return context ? { type, start: match.index, end: match.index + 9, confidence: 0.85 } : null;
  }, out);
  return out;
}

export const detectIdCards = (text: string): Detection[] => documentNumbers(text, ID_CARD, 'id_card', ID_CONTEXT);
export const detectPassports = (text: string): Detection[] => documentNumbers(text, PASSPORT, 'passport', PASSPORT_CONTEXT);

/** Rentenversicherungsnummer: area (2), birth date DDMMYY, initial of the birth name, serial (2), check digit. */
const SOCIAL = /(?<![A-Za-z0-9])(\d{2}) ?(\d{6}) ?([A-Z]) ?(\d{2}) ?(\d)(?![A-Za-z0-9])/g;

export function socialSecurityValid(area: string, birth: string, letter: string, serial: string, check: string): boolean {
  const day = Number(birth.slice(0, 2));
  const month = Number(birth.slice(2, 4));
  if (day < 1 || day > 31 || month < 1 || month > 12) return false;
  const letterValue = String(letter.charCodeAt(0) - 64).padStart(2, '0');
  const digits = area + birth + letterValue + serial;
  const weights = [2, 1, 2, 5, 7, 1, 2, 1, 2, 1, 2, 1];
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += crossSum((digits.charCodeAt(i) - 48) * weights[i]!);
  return sum % 10 === Number(check);
}

export function detectSocialSecurity(text: string): Detection[] {
  const out: Detection[] = [];
  eachMatch(text, SOCIAL, (match) => {
    if (!socialSecurityValid(match[1]!, match[2]!, match[3]!, match[4]!, match[5]!)) return null;
    const context = contextBefore(text, match.index, /(?:sozialversicherung|rentenversicherung|versicherungsnummer|sv-nummer|rvnr|social security)\S*\W*$/i, 40);
    return { type: 'social_security', start: match.index, end: match.index + match[0].length, confidence: context ? 0.99 : 0.9 };
  }, out);
  return out;
}

/** Krankenversichertennummer: a letter and nine digits, the last a check digit (weights 1, 2, cross sums). */
const HEALTH = /(?<![A-Za-z0-9])[A-Z]\d{9}(?![A-Za-z0-9])/g;

export function healthInsuranceValid(id: string): boolean {
  const digits = String(id.charCodeAt(0) - 64).padStart(2, '0') + id.slice(1, 9);
  let sum = 0;
  for (let i = 0; i < 10; i++) sum += crossSum((digits.charCodeAt(i) - 48) * (i % 2 === 0 ? 1 : 2));
  return sum % 10 === Number(id[9]);
}

export function detectHealthInsurance(text: string): Detection[] {
  const out: Detection[] = [];
  eachMatch(text, HEALTH, (match) => {
    if (!healthInsuranceValid(match[0])) return null;
    const context = contextBefore(text, match.index, /(?:versicherten\w*|krankenkasse|krankenversicherung|kvnr|health insurance|insurance)\S*\W*$/i, 40);
    if (!context && looksLikeReference(text, match.index)) return null;
    return { type: 'health_insurance', start: match.index, end: match.index + 10, confidence: context ? 0.99 : 0.75 };
  }, out);
  return out;
}

/** US SSN: AAA-GG-SSSS; never area 000, 666 or 9xx, group 00 or serial 0000. Without separators only with context. */
const SSN = /(?<![\d-])(\d{3})([- ]?)(\d{2})\2(\d{4})(?![\d]|-\d)/g;
const SSN_CONTEXT = /(?:ssn|social security|soc\.? sec\.?)(?:\s*(?:number|no\.?|#|is|:))*\W*$/i;

export function detectSsns(text: string): Detection[] {
  const out: Detection[] = [];
  eachMatch(text, SSN, (match) => {
    const area = Number(match[1]);
    if (area === 0 || area === 666 || area >= 900 || match[3] === '00' || match[4] === '0000') return null;
    const context = contextBefore(text, match.index, SSN_CONTEXT, 30);
    if (match[2] === '' && !context) return null;
    if (!context && looksLikeReference(text, match.index)) return null;
    return { type: 'ssn', start: match.index, end: match.index + match[0].length, confidence: context ? 0.99 : 0.85 };
  }, out);
  return out;
}
