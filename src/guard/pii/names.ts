import { createRequire } from 'node:module';
import { AMBIGUOUS_FIRST_NAMES, FIRST_NAMES, LAST_NAMES } from './names-gazetteer.js';
import { eachMatch, type Detection } from './types.js';

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
const INTRO_CUE = new RegExp(
  `(?<![\\p{L}])(?:${cues("mein Name ist|ich heiße|ich heisse|my name is|i am called|i'm called|name:|unterzeichnet von|signed by|ansprechpartner:|ansprechpartnerin:|contact person:|contact:|kontakt:|patient|patientin|kunde|kundin|customer|client|mandant|mandantin")})\\s+(${NAME})`,
  'gu',
);
const SOFT_CUE = new RegExp(
  `(?<![\\p{L}])(?:${cues("ich bin|i am|i'm|this is|hier ist|hier spricht|von|from|an|to|mit|with|für|for|dear|liebe|lieber|hallo|hello|hi|und|and")})\\s+(${NAME})`,
  'gu',
);
const SIGNATURE = new RegExp(
  `(?:${cues('grüße|grüßen|grüssen|grüsse|gruß|gruss|regards|sincerely|cheers|best|thanks|danke|yours')})[,!.]?[ \\t]*\\r?\\n\\s*(${NAME})`,
  'gu',
);
const GAZETTEER_NAME = new RegExp(`(?<![\\p{L}])${NAME}`, 'gu');

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

function cued(text: string, pattern: RegExp, confidence: number, out: Detection[], requireKnown: boolean): void {
  eachMatch(text, pattern, (match) => {
    const name = match[1]!;
    const span = nameSpan(text, match.index + match[0].length - name.length, name);
    if (span === null) return null;
    const first = name.split(/\s+/)[0]!;
    if (requireKnown && !FIRST_NAMES.has(first) && !LAST_NAMES.has(first)) return null;
    return { ...span, confidence };
  }, out);
}

export function detectNames(text: string, useNlp = false): Detection[] {
  const out: Detection[] = [];
  cued(text, TITLE_CUE, 0.95, out, false);
  cued(text, INTRO_CUE, 0.95, out, false);
  cued(text, SIGNATURE, 0.9, out, false);
  cued(text, SOFT_CUE, 0.9, out, true);
  eachMatch(text, GAZETTEER_NAME, (match) => gazetteerName(text, match), out);
  if (useNlp) out.push(...nlpNames(text));
  return out;
}

/** A known given name (with what follows it), or a known given name and surname pair. */
function gazetteerName(text: string, match: RegExpExecArray): Detection | null {
  const tokens = match[0].split(/\s+/);
  const first = tokens[0]!;
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
