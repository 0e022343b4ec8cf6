import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { contextBefore, eachMatch, looksLikeReference, type Detection } from './types.js';

/** E-mail addresses and phone numbers. */

/** Sticky: tried only at the few places an address can start (see detectEmails). */
const EMAIL = /(?<![\w.+-])[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,63})@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])/y;

/** Characters of the local part (before the `@`). */
function localPartChar(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 48 && code <= 57) || code === 46 || code === 95 || code === 43 || code === 45 || code === 37;
}

/**
 * Fast path: instead of trying the pattern at every character of the text (most of the scan's
 * time on long prompts), it is tried only in the run of local-part characters right before each
 * `@`, left to right — the same matches, since every address has exactly one `@` and at most 64
 * local-part characters before it.
 */
export function detectEmails(text: string): Detection[] {
  const out: Detection[] = [];
  let from = 0;
  for (let at = text.indexOf('@'); at >= 0; at = text.indexOf('@', Math.max(at + 1, from))) {
    let start = at;
    while (start > from && at - start < 64 && localPartChar(text.charCodeAt(start - 1))) start--;
    for (; start < at; start++) {
      EMAIL.lastIndex = start;
      const match = EMAIL.exec(text);
      if (match === null) continue;
      from = start + match[0].length;
      if (!match[0].includes('..')) out.push({ type: 'email', start, end: from, confidence: 0.99 });
      break;
    }
  }
  return out;
}

/**
 * Phone candidates in the shapes people write them: international (+ or 00 and a country code),
 * national with a trunk 0 (DE, AT, CH, UK), and US-style with area code in parentheses or
 * separators. libphonenumber-js then decides whether the digits are a real number.
 */
const PHONE =
  /(?<![\w+/.-])(?<!\d[ ./-])(?:(?:\+|00)[1-9]\d{0,2}[\s./-]?(?:\(0\)[\s]?)?\(?\d{1,5}\)?(?:[\s./-]?\d{1,8}){1,5}|\(?0\d{1,5}\)?(?:[\s./-]?\d{1,8}){1,5}|\(\d{3}\)\s?\d{3}[\s.-]\d{4}|\d{3}[.-]\d{3}[.-]\d{4}|\d{10})(?![\w/-]|\.\d|,\d)/g;

const DATE_SHAPE = /^(?:\d{4}-\d{2}-\d{2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4})$/;
const PHONE_CONTEXT = /(?:tel|phone|call|fax|mobil|handy|telefon|ruf|erreichbar|whatsapp|sms|cell|nummer|number)\w*\.?:?\s*$/i;
const COUNTRIES: readonly CountryCode[] = ['DE', 'AT', 'CH', 'GB', 'US'];

/**
 * `skip(start, end)`: whether a candidate there would lose to an overlapping detection anyway;
 * such candidates are not validated (libphonenumber costs tens of µs per number and country).
 */
export function detectPhones(text: string, skip?: (start: number, end: number) => boolean): Detection[] {
  const out: Detection[] = [];
  // Validity of each distinct candidate, for this text only: the same number written again is not validated again.
  let validated: Map<string, boolean> | null = null;
  eachMatch(text, PHONE, (match) => {
    const candidate = match[0];
    const digits = candidate.replace(/\D/g, '');
    if (digits.length < 7 || digits.length > 15 || DATE_SHAPE.test(candidate)) return null;
    if (looksLikeReference(text, match.index)) return null;
    const international = candidate.startsWith('+') || candidate.startsWith('00');
    const context = contextBefore(text, match.index, PHONE_CONTEXT, 25);
    if (!international && /^\d+$/.test(candidate) && !candidate.startsWith('0') && !context) return null;
    const end = match.index + candidate.length;
    if (skip?.(match.index, end) === true) return null;
    validated ??= new Map();
    let valid = validated.get(candidate);
    if (valid === undefined) {
      valid = validPhone(candidate, international);
      validated.set(candidate, valid);
    }
    if (!valid) return null;
    const confidence = context ? 0.98 : international ? 0.95 : 0.9;
    return { type: 'phone', start: match.index, end, confidence };
  }, out);
  return out;
}

/** The highest confidence detectPhones reports (detectPii compares it with other detections). */
export const PHONE_MAX_CONFIDENCE = 0.98;

/** US shapes: (212) 555-0123, 212-555-0123, 212.555.0123, ten digits without a trunk 0. */
const US_SHAPE = /^(?:\(\d{3}\)|\d{3}[.-]\d{3}[.-]|[1-9]\d{9}$)/;
const US_FIRST: readonly CountryCode[] = ['US', 'DE', 'AT', 'CH', 'GB'];

function validPhone(candidate: string, international: boolean): boolean {
  const normalised = candidate.startsWith('00') ? `+${candidate.slice(2)}` : candidate.replace('(0)', '');
  if (international) return parsePhoneNumberFromString(normalised)?.isValid() === true;
  // Valid in any of the countries; the likeliest is asked first, so a valid number costs one parse.
  for (const country of US_SHAPE.test(candidate) ? US_FIRST : COUNTRIES) {
    if (parsePhoneNumberFromString(normalised, country)?.isValid() === true) return true;
  }
  return false;
}
