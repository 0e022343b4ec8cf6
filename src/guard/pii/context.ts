import { contextBefore, eachMatch, eachMatchAt, isWhiteSpace, looksLikeReference, type Detection } from './types.js';

/** Personal data that only context tells apart: dates of birth, postal addresses, German licence plates. */

const MONTHS_DE = 'Januar|Jänner|Februar|März|Maerz|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember';
const MONTHS_EN = 'January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec';
const YEAR = '(?:19|20)\\d{2}';
const DATE = new RegExp(
  [
    `(\\d{1,2})\\.\\s?(\\d{1,2})\\.\\s?(${YEAR})`,
    `(${YEAR})-(\\d{2})-(\\d{2})`,
    `(\\d{1,2})/(\\d{1,2})/(${YEAR})`,
    `\\d{1,2}\\.?\\s(?:${MONTHS_DE}|${MONTHS_EN})\\.?\\s${YEAR}`,
    `(?:${MONTHS_EN})\\.?\\s\\d{1,2}(?:st|nd|rd|th)?,?\\s${YEAR}`,
    `\\d{1,2}(?:st|nd|rd|th)\\s(?:of\\s)?(?:${MONTHS_EN})\\s${YEAR}`,
  ].map((part) => `(?:${part})`).join('|'),
  'g',
);
const BIRTH_CONTEXT = /(?:geboren|geb\.|geburtsdatum|geburtstag|born|birth|dob|d\.o\.b\.|birthday|\*)[^.\n]{0,25}$/i;

const BIRTH_AFTER = /^\s*(?:\([^)]{0,12}\)\s*)?(?:geboren|born)/i;

function plausibleDate(match: RegExpExecArray): boolean {
  const [day, month] = match[1] !== undefined ? [match[1], match[2]] : match[4] !== undefined ? [match[6], match[5]] : match[7] !== undefined ? [match[8], match[7]] : ['1', '1'];
  const d = Number(day);
  const m = Number(month);
  return d >= 1 && d <= 31 && m >= 1 && m <= 12;
}

/**
 * Fast path: every birth cue (before or after the date) contains one of these. A text without a
 * year or without any of them cannot hold a date of birth and is not scanned for dates; otherwise
 * only a date with one of them close enough (40 characters before, 20 after) is looked at closely.
 */
const ANY_BIRTH_CUE = /geb|born|birth|dob|d\.o\.b\.|\*/gi;
/** Every date the pattern knows has a year 19xx or 20xx; this test is the cheaper one, so it goes first. */
const ANY_YEAR = new RegExp(YEAR);

/** Where the birth cues start, in order (overlapping ones too). */
function birthCues(text: string): number[] {
  const at: number[] = [];
  ANY_BIRTH_CUE.lastIndex = 0;
  for (let match = ANY_BIRTH_CUE.exec(text); match !== null; match = ANY_BIRTH_CUE.exec(text)) {
    at.push(match.index);
    ANY_BIRTH_CUE.lastIndex = match.index + 1;
  }
  return at;
}

export function detectDatesOfBirth(text: string): Detection[] {
  const out: Detection[] = [];
  if (!ANY_YEAR.test(text)) return out;
  const cues = birthCues(text);
  if (cues.length === 0) return out;
  let next = 0;
  eachMatch(text, DATE, (match) => {
    const start = match.index;
    const end = start + match[0].length;
    while (next < cues.length && cues[next]! < start - 40) next++;
    let near = false;
    for (let k = next; k < cues.length && cues[k]! < end + 20 && !near; k++) near = cues[k]! < start || cues[k]! >= end;
    if (!near || !plausibleDate(match)) return null;
    const after = BIRTH_AFTER.test(text.slice(end, end + 20));
    if (!after && !contextBefore(text, start, BIRTH_CONTEXT, 40)) return null;
    return { type: 'date_of_birth', start, end, confidence: 0.9 };
  }, out);
  return out;
}

const UPPER = 'A-ZÄÖÜ';
const LOWER = 'a-zäöüß';
const STREET_SUFFIX = 'straße|strasse|str\\.|weg|platz|allee|gasse|ring|damm|ufer|chaussee|pfad|steig|markt|graben|kamp|stieg|wall|promenade|zeile|berg|hof|feld|höhe|tor|brücke';
const STREET_WORD = 'Straße|Strasse|Str\\.|Weg|Platz|Allee|Gasse|Ring|Damm|Ufer|Chaussee|Markt';
const DE_STREET =
  `(?:(?:[${UPPER}][${LOWER}-]+\\s){0,2}[${UPPER}][${LOWER}-]*(?:${STREET_SUFFIX})` +
  `|(?:[${UPPER}][${LOWER}-]+(?:er|sche|sches)?\\s)(?:${STREET_WORD})` +
  `|(?:Am|An der|An den|Auf dem|Auf der|Im|In der|In den|Zum|Zur|Unter den)\\s[${UPPER}][${LOWER}-]+)`;
const DE_ADDRESS = new RegExp(
  `(?<![\\p{L}])(${DE_STREET})\\s(\\d{1,4}(?:\\s?[a-zA-Z](?![\\p{L}]))?(?:-\\d{1,4})?)((?:,?\\s*\\n?\\s*)(?:D-)?\\d{5}\\s[${UPPER}][${LOWER}-]+(?:\\s(?:am|an der|im|in der|bei|ob der)\\s[${UPPER}][${LOWER}-]+|\\s\\([${UPPER}][\\p{L}. ]+\\))?)?`,
  'uy',
);

const US_SUFFIX = 'Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Parkway|Pkwy|Circle|Cir|Highway|Hwy';
const US_ADDRESS = new RegExp(
  `(?<![\\w])\\d{1,6}\\s(?:[NSEW]\\.?\\s)?(?:[A-Z][a-z]+\\s){1,3}(?:${US_SUFFIX})\\.?(?:\\s(?:NW|NE|SW|SE))?(?:,?\\s(?:Apt|Suite|Unit|#)\\.?\\s?[\\w-]+)?((?:,\\s|\\n)[A-Z][a-z]+(?:\\s[A-Z][a-z]+){0,2},\\s[A-Z]{2}\\s\\d{5}(?:-\\d{4})?)?(?![\\w])`,
  'y',
);

const DIGIT_RUN = /\d+/g;
/** Sticky at the white space before a house number: what any DE_STREET ends with (a superset). */
const STREET_END = new RegExp(`(?<=(?:${STREET_SUFFIX}|${STREET_WORD})|(?:Am|An|Auf|Im|In|Zum|Zur|Unter|der|den|dem)\\s[${UPPER}][${LOWER}-]+)\\s`, 'uy');
const isDigit = (code: number): boolean => code >= 48 && code <= 57;
const isWordChar = (code: number): boolean => isDigit(code) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95;
const isUpper = (code: number): boolean => (code >= 65 && code <= 90) || code === 0xc4 || code === 0xd6 || code === 0xdc;
/** Characters of the words of DE_STREET: letters of its classes, `-` and the `.` of "Str.". */
const isStreetChar = (code: number): boolean =>
  isUpper(code) || (code >= 97 && code <= 122) || code === 0xe4 || code === 0xf6 || code === 0xfc || code === 0xdf || code === 45 || code === 46;

/**
 * Where an address can start, from the digit runs of the text (one pass instead of running both
 * address patterns at every character; in ordinary prose almost no place qualifies):
 * - German: the house number follows the street and one white-space character; the street is at
 *   most three words, so a match starts at a capital beginning (or following `-`/`.` inside) one
 *   of the three words before it.
 * - US: the match starts with the house number itself (1–6 digits after a non-word character).
 */
function addressStarts(text: string): { de: number[]; us: number[] } {
  const de: number[] = [];
  const us: number[] = [];
  // The regex engine finds digits much faster than a loop over the characters.
  // test() rather than exec(): no match object per run; the run's start is found by stepping back.
  DIGIT_RUN.lastIndex = 0;
  while (DIGIT_RUN.test(text)) {
    const after = DIGIT_RUN.lastIndex;
    let runStart = after - 1;
    while (runStart > 0 && isDigit(text.charCodeAt(runStart - 1))) runStart--;
    const before = runStart > 0 ? text.charCodeAt(runStart - 1) : -1;
    // A US address continues with white space and a capital (the street, or N/S/E/W).
    if (!isWordChar(before) && after - runStart <= 6 && isWhiteSpace(text.charCodeAt(after)) && isUpper(text.charCodeAt(after + 1))) us.push(runStart);
    if (runStart < 2 || !isWhiteSpace(before)) continue;
    // A German street ends in a suffix or street word, or is the name after "Am", "In der" …:
    // in a lower-case letter, `-` or the `.` of "Str." (cheap test first).
    const last = text.charCodeAt(runStart - 2);
    if (!isStreetChar(last) || isUpper(last)) continue;
    STREET_END.lastIndex = runStart - 1;
    if (!STREET_END.test(text)) continue;
    const found: number[] = [];
    let wordEnd = runStart - 1;
    for (let words = 0; words < 3 && wordEnd > 0 && isStreetChar(text.charCodeAt(wordEnd - 1)); words++) {
      let at = wordEnd;
      while (at > 0 && isStreetChar(text.charCodeAt(at - 1))) at--;
      for (let p = wordEnd - 1; p >= at; p--) {
        if (isUpper(text.charCodeAt(p)) && (p === at || !isStreetLetter(text.charCodeAt(p - 1)))) found.push(p);
      }
      if (at < 2 || !isWhiteSpace(text.charCodeAt(at - 1))) break;
      wordEnd = at - 1;
    }
    for (let k = found.length - 1; k >= 0; k--) de.push(found[k]!);
  }
  return { de, us };
}

const isStreetLetter = (code: number): boolean => isStreetChar(code) && code !== 45 && code !== 46;

export function detectAddresses(text: string): Detection[] {
  const out: Detection[] = [];
  const starts = addressStarts(text);
  eachMatchAt(text, starts.de, DE_ADDRESS, (match) => {
    const end = match.index + match[0].length;
    return { type: 'address', start: match.index, end, confidence: match[3] !== undefined ? 0.97 : 0.85 };
  }, out);
  eachMatchAt(text, starts.us, US_ADDRESS, (match) => {
    const end = match.index + match[0].replace(/\.$/, '').length;
    return { type: 'address', start: match.index, end, confidence: match[1] !== undefined ? 0.97 : 0.8 };
  }, out);
  return out;
}

/** District (1–3 letters), 1–2 letters, 1–4 digits, optional E (electric) or H (historic); at most 8 characters. */
const PLATE = /(?<![\p{L}\d-])([A-ZÄÖÜ]{1,3})([- ])([A-Z]{1,2})([ -]?)([1-9]\d{0,3})([EH]?)(?![\p{L}\d])/gu;
const PLATE_CONTEXT = /(?:kennzeichen|nummernschild|licen[cs]e plate|plate|auto|wagen|fahrzeug|pkw|kfz|car|vehicle)\S*\W*$/i;

export function detectLicencePlates(text: string): Detection[] {
  const out: Detection[] = [];
  eachMatch(text, PLATE, (match) => {
    const letters = match[1]!.length + match[3]!.length + match[5]!.length + match[6]!.length;
    if (letters > 8) return null;
    const context = contextBefore(text, match.index, PLATE_CONTEXT, 30);
    if (!context && looksLikeReference(text, match.index)) return null;
    const confidence = context ? 0.95 : match[2] === '-' && match[4] === ' ' ? 0.85 : 0.6;
    return { type: 'licence_plate', start: match.index, end: match.index + match[0].length, confidence };
  }, out);
  return out;
}
