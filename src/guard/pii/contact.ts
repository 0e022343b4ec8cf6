import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { contextBefore, eachMatch, looksLikeReference, type Detection } from './types.js';

/** E-mail addresses and phone numbers. */

const EMAIL = /(?<![\w.+-])[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,63})@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])/g;

export function detectEmails(text: string): Detection[] {
  const out: Detection[] = [];
  if (!text.includes('@')) return out;
  eachMatch(text, EMAIL, (match) => {
    if (match[0].includes('..')) return null;
    return { type: 'email', start: match.index, end: match.index + match[0].length, confidence: 0.99 };
  }, out);
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

export function detectPhones(text: string): Detection[] {
  const out: Detection[] = [];
  eachMatch(text, PHONE, (match) => {
    const candidate = match[0];
    const digits = candidate.replace(/\D/g, '');
    if (digits.length < 7 || digits.length > 15 || DATE_SHAPE.test(candidate)) return null;
    if (looksLikeReference(text, match.index)) return null;
    const international = candidate.startsWith('+') || candidate.startsWith('00');
    const context = contextBefore(text, match.index, PHONE_CONTEXT, 25);
    if (!international && /^\d+$/.test(candidate) && !candidate.startsWith('0') && !context) return null;
    if (!validPhone(candidate, international)) return null;
    const confidence = context ? 0.98 : international ? 0.95 : 0.9;
    return { type: 'phone', start: match.index, end: match.index + candidate.length, confidence };
  }, out);
  return out;
}

function validPhone(candidate: string, international: boolean): boolean {
  const normalised = candidate.startsWith('00') ? `+${candidate.slice(2)}` : candidate.replace('(0)', '');
  if (international) return parsePhoneNumberFromString(normalised)?.isValid() === true;
  for (const country of COUNTRIES) {
    if (parsePhoneNumberFromString(normalised, country)?.isValid() === true) return true;
  }
  return false;
}
