import { createRequire } from 'node:module';
import { AMBIGUOUS_FIRST_NAMES, FIRST_NAMES, LAST_NAMES } from './names-gazetteer.js';
import { eachMatch, eachMatchAt, isWhiteSpace, type Detection } from './types.js';

/**
 * Person names: a gazetteer of given names and surnames, the cues that introduce a name (Herr,
 * Frau, Dr., Mr, Ms, "mein Name ist", "my name is", a signature after a greeting), and — when
 * asked for — compromise's English people finder.
 */

const NAME_TOKEN = "[A-ZÄÖÜÉÇŁŞ][a-zäöüßéèáàíóúñçłśćęąığş']+(?:-[A-ZÄÖÜ][a-zäöüß]+)?";
const PARTICLE = '(?:von|van|de|der|den|zu|da|di|du|le|la|del|dos|al|bin|ibn)';
/** One to three name tokens, particles allowed between them. */
const NAME = `${NAME_TOKEN}(?:\\s(?:${PARTICLE}\\s){0,2}${NAME_TOKEN}){0,2}`;

const TITLE_CUE = new RegExp(`(?<![\\p{L}])(?:Herrn?|Frau|Fr\\.|Hr\\.|Mr|Mrs|Ms|Miss|Mx|Sir|Dr|Prof)\\.?\\s+(?:(?:Dr|Prof|med|rer|nat|phil|jur)\\.\\s*)*(${NAME})`, 'gu');
/** Cue words in either case of their first letters, while the name itself must be capitalised. */
function cues(words: string): string {
  return words
    .split('|')
    .map((phrase) => phrase.replace(/(^|\s)(\p{L})/gu, (_, space: string, letter: string) => `${space}[${letter.toUpperCase()}${letter.toLowerCase()}]`))
    .join('|');
}
const INTRO_WORDS = "mein Name ist|ich heiße|ich heisse|my name is|i am called|i'm called|name:|unterzeichnet von|signed by|ansprechpartner:|ansprechpartnerin:|contact person:|contact:|kontakt:|patient|patientin|kunde|kundin|customer|client|mandant|mandantin";
const SOFT_WORDS = "ich bin|i am|i'm|this is|hier ist|hier spricht|von|from|an|to|mit|with|für|for|dear|liebe|lieber|hallo|hello|hi|und|and";
const SIGNATURE_WORDS = 'grüße|grüßen|grüssen|grüsse|gruß|gruss|regards|sincerely|cheers|best|thanks|danke|yours';
/** Sticky: tried only at the places `cueStarts` and `signatureStarts` find. */
const INTRO_CUE = new RegExp(`(?<![\\p{L}])(?:${cues(INTRO_WORDS)})\\s+(${NAME})`, 'uy');
const SOFT_CUE = new RegExp(`(?<![\\p{L}])(?:${cues(SOFT_WORDS)})\\s+(${NAME})`, 'uy');
const SIGNATURE = new RegExp(`(?:${cues(SIGNATURE_WORDS)})[,!.]?[ \\t]*\\r?\\n\\s*(${NAME})`, 'uy');

/** NAME with its first token captured (the gazetteer looks that up first). */
const GAZETTEER_NAME = new RegExp(`(?<![\\p{L}])(${NAME_TOKEN})(?:\\s(?:${PARTICLE}\\s){0,2}${NAME_TOKEN}){0,2}`, 'gu');

/** Capitalised words that are never the second half of a name. */
const NOT_NAME = new Set(
  `I The A An And Or But If So Der Die Das Den Dem Des Ein Eine Und Oder Aber Ich Sie Er Es Wir Ihr Hi Hallo Hello Dear Liebe
  Lieber Mr Mrs Ms Herr Frau Dr Thanks Danke Monday Tuesday Wednesday Thursday Friday Saturday Sunday Montag Dienstag Mittwoch
  Donnerstag Freitag Samstag Sonntag January February March April May June July August September October November December
  Januar Februar März Mai Juni Juli Oktober Dezember Is Was Has Had Will Can Said Says Sagt Ist Hat War Wird Kann Bitte Please
  Yes No Ja Nein In On At Im Am Um Von Zu Mit Für With For From To Of GmbH AG Inc Ltd Bank Straße Street`.split(/\s+/),
);

function isNameToken(token: string): boolean {
  return !NOT_NAME.has(token);
}

/** Trims the words of a matched name that are not names (a trailing "Und", a month …). */
function nameSpan(text: string, start: number, name: string): Detection | null {
  const tokens = name.split(/\s+/);
  while (tokens.length > 0 && !isNameToken(tokens[tokens.length - 1]!)) tokens.pop();
  if (tokens.length === 0 || !isNameToken(tokens[0]!)) return null;
  const kept = tokens.join(' ');
  const at = text.indexOf(kept, start);
  return at < 0 ? null : { type: 'person', start: at, end: at + kept.length, confidence: 0 };
}

/** The first word of a matched name (name tokens are separated by white space). */
function firstToken(name: string): string {
  const end = name.search(WHITE_SPACE);
  return end < 0 ? name : name.slice(0, end);
}
const WHITE_SPACE = /\s/;

function cuedName(text: string, match: RegExpExecArray, confidence: number, requireKnown: boolean): Detection | null {
  const name = match[1]!;
  if (requireKnown) {
    const first = firstToken(name);
    if (!FIRST_NAMES.has(first) && !LAST_NAMES.has(first)) return null;
  }
  const span = nameSpan(text, match.index + match[0].length - name.length, name);
  return span === null ? null : { ...span, confidence };
}

/** Runs a sticky cue pattern at the candidate places (ascending), as eachMatchAt does, taking each cued name. */
function cuedAt(text: string, starts: readonly number[], pattern: RegExp, confidence: number, out: Detection[], requireKnown: boolean): void {
  eachMatchAt(text, starts, pattern, (match) => cuedName(text, match, confidence, requireKnown), out);
}

/** White space and the first letter of NAME_TOKEN: where a cued name can begin. */
const SPACE_CAPITAL = /\s[A-ZÄÖÜÉÇŁŞ]/g;

const foldAscii = (code: number): number => (code >= 65 && code <= 90 ? code + 32 : code);
const isAsciiLetter = (code: number): boolean => (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
/** In the key of a two-letter cue ("an", "to"), the place before it: anything but an ASCII letter. */
const NO_LETTER = 0x3ff;
/**
 * Ten bits of each character: a small integer key, cheap for a Map. Characters that share their
 * low ten bits share keys; that only adds a candidate, which the pattern then rejects.
 */
const endingKey = (a: number, b: number, c: number): number => ((foldAscii(a) & 0x3ff) << 20) | ((foldAscii(b) & 0x3ff) << 10) | (foldAscii(c) & 0x3ff);

/**
 * Cue phrase lengths by their last three characters (case-folded), for finding where a cue would
 * start; a two-letter cue by its letters after a non-letter (its pattern requires that).
 */
function endings(words: string): Map<number, number[]> {
  const map = new Map<number, number[]>();
  for (const phrase of words.split('|')) {
    const n = phrase.length;
    const key = n >= 3 ? endingKey(phrase.charCodeAt(n - 3), phrase.charCodeAt(n - 2), phrase.charCodeAt(n - 1)) : endingKey(NO_LETTER, phrase.charCodeAt(0), phrase.charCodeAt(1));
    const lengths = map.get(key) ?? [];
    if (!lengths.includes(n)) lengths.push(n);
    map.set(key, lengths);
  }
  return map;
}
const INTRO_ENDINGS = endings(INTRO_WORDS);
const SOFT_ENDINGS = endings(SOFT_WORDS);
const SIGNATURE_ENDINGS = endings(SIGNATURE_WORDS);

function addStarts(text: string, end: number, table: Map<number, number[]>, into: number[]): void {
  if (end < 2) return;
  const before = end >= 3 ? text.charCodeAt(end - 3) : -1;
  const b = text.charCodeAt(end - 2);
  const c = text.charCodeAt(end - 1);
  if (before >= 0) pushStarts(table.get(endingKey(before, b, c)), end, into);
  if (!isAsciiLetter(before)) pushStarts(table.get(endingKey(NO_LETTER, b, c)), end, into);
}

function pushStarts(lengths: readonly number[] | undefined, end: number, into: number[]): void {
  if (lengths !== undefined) for (const length of lengths) if (end - length >= 0) into.push(end - length);
}

const ascending = (a: number, b: number): number => a - b;

/**
 * Fast path for the intro and soft cues ("my name is Anna", "und Anna"): instead of running their
 * long alternations at every character of the text (the costliest part of the whole scan), one
 * pass finds each capital that follows white space — where a cued name must begin — and looks at
 * the two characters before that white space: only a cue ending in them is tried, and only where
 * it would start. The patterns then decide as before.
 */
function cueStarts(text: string): { intro: number[]; soft: number[] } {
  const intro: number[] = [];
  const soft: number[] = [];
  // The regex engine finds these much faster than a loop over the characters.
  // test() rather than exec(): no match object for each of the (many) capitals.
  SPACE_CAPITAL.lastIndex = 0;
  while (SPACE_CAPITAL.test(text)) {
    let end = SPACE_CAPITAL.lastIndex - 2;
    while (end > 0 && isWhiteSpace(text.charCodeAt(end - 1))) end--;
    addStarts(text, end, INTRO_ENDINGS, intro);
    addStarts(text, end, SOFT_ENDINGS, soft);
  }
  // A cue of several words can start before an earlier candidate ("mein Name ist Anna").
  return { intro: intro.sort(ascending), soft: soft.sort(ascending) };
}

/**
 * Fast path for signatures: every one has a line break right after the greeting (and optional
 * punctuation, blanks and \r), so only greetings ending just before a line break are tried.
 */
function signatureStarts(text: string): number[] {
  const starts: number[] = [];
  for (let n = text.indexOf('\n'); n >= 0; n = text.indexOf('\n', n + 1)) {
    let end = n;
    if (end > 0 && text.charCodeAt(end - 1) === 13) end--;
    while (end > 0 && (text.charCodeAt(end - 1) === 32 || text.charCodeAt(end - 1) === 9)) end--;
    const last = text.charCodeAt(end - 1);
    if (last === 44 || last === 33 || last === 46) end--;
    addStarts(text, end, SIGNATURE_ENDINGS, starts);
  }
  return starts.sort(ascending);
}

export function detectNames(text: string, useNlp = false): Detection[] {
  const out: Detection[] = [];
  const { intro, soft } = cueStarts(text);
  eachMatch(text, TITLE_CUE, (match) => cuedName(text, match, 0.95, false), out);
  cuedAt(text, intro, INTRO_CUE, 0.95, out, false);
  cuedAt(text, signatureStarts(text), SIGNATURE, 0.9, out, false);
  cuedAt(text, soft, SOFT_CUE, 0.9, out, true);
  eachMatch(text, GAZETTEER_NAME, (match) => gazetteerName(text, match), out);
  if (useNlp) out.push(...nlpNames(text));
  return out;
}

/** A known given name (with what follows it), or a known given name and surname pair. */
function gazetteerName(text: string, match: RegExpExecArray): Detection | null {
  // Fast path: most capitalised words are not given names; no splitting for them.
  const first = match[1]!;
  if (!FIRST_NAMES.has(first)) {
    // A capitalised word before a known surname pair ("Sehr geehrte Anna Schmidt") is found by the next match.
    return null;
  }
  const span = nameSpan(text, match.index, match[0]);
  if (span === null) return null;
  const rest = text.slice(span.start, span.end).split(/\s+/).slice(1);
  if (rest.length === 0) {
    return AMBIGUOUS_FIRST_NAMES.has(first) ? null : { ...span, confidence: 0.75 };
  }
  const knownLast = rest.some((token) => LAST_NAMES.has(token));
  return { ...span, confidence: knownLast ? 0.97 : AMBIGUOUS_FIRST_NAMES.has(first) ? 0.7 : 0.9 };
}

interface NlpMatch {
  text: string;
  offset: { start: number; length: number };
}

type Nlp = typeof import('compromise').default;
let nlpLoaded: Nlp | null = null;

/** compromise is large (tens of MB in memory): it is loaded on first use, not at start. */
function nlp(text: string): ReturnType<Nlp> {
  nlpLoaded ??= createRequire(import.meta.url)('compromise') as Nlp;
  return nlpLoaded(text);
}

/** compromise's people finder (English); slow on long texts, hence only when asked for. */
function nlpNames(text: string): Detection[] {
  const found = nlp(text).people().json({ offset: true }) as NlpMatch[];
  const out: Detection[] = [];
  for (const person of found) {
    const { start, length } = person.offset;
    const span = text.slice(start, start + length).replace(/[\s.,;:!?'"]+$/, '');
    if (!/^\p{Lu}/u.test(span)) continue;
    out.push({ type: 'person', start, end: start + span.length, confidence: 0.8 });
  }
  return out;
}
