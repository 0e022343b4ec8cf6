/**
 * `${VAR}` references in a config: `${VAR}` must be set, `${VAR:-default}` falls back when VAR
 * is unset or empty, and `$${…}` stays as the literal text `${…}`.
 *
 * References are taken out of the text *before* YAML parsing (so `{ key: ${VAR} }` in a flow
 * mapping parses) and put back into the parsed scalars *after* it (so a value with `:` or `#`
 * cannot change the document's structure). Placeholders hold no newline, so lines stay true.
 */

const REFERENCE = /\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
const PLACEHOLDER = /STWREF(\d+)_+/g;

export type Environment = Readonly<Record<string, string | undefined>>;

export interface Reference {
  readonly name: string;
  readonly fallback: string | undefined;
  /** `$${VAR}`: the literal text, not a lookup. */
  readonly literal: boolean;
  /** Offset in the original text, for error positions. */
  readonly offset: number;
  readonly text: string;
}

export interface ExtractedReferences {
  readonly text: string;
  readonly references: readonly Reference[];
}

export function extractReferences(text: string): ExtractedReferences {
  const references: Reference[] = [];
  const replaced = text.replace(REFERENCE, (match, escape: string, name: string, fallback: string | undefined, offset: number) => {
    const index = references.length;
    references.push({ name, fallback, literal: escape === '$', offset, text: match });
    const head = `STWREF${index}_`;
    return head.length >= match.length ? head : head.padEnd(match.length, '_');
  });
  return { text: replaced, references };
}

export interface Resolution {
  readonly value: string;
  /** References without a default whose variable is not set. */
  readonly missing: readonly Reference[];
  /** The whole value was one reference, so a number or boolean may come out of it. */
  readonly wholeValue: boolean;
}

/** Puts the environment's values in place of the placeholders in one scalar. */
export function resolvePlaceholders(value: string, references: readonly Reference[], env: Environment): Resolution {
  const missing: Reference[] = [];
  let count = 0;
  let whole = false;
  const out = value.replace(PLACEHOLDER, (match, index: string, offset: number) => {
    const reference = references[Number(index)];
    if (reference === undefined) return match;
    count++;
    if (offset === 0 && match.length === value.length) whole = true;
    if (reference.literal) return reference.text.slice(1);
    const found = env[reference.name];
    if (found !== undefined && found !== '') return found;
    if (reference.fallback !== undefined) return reference.fallback;
    if (found === undefined) missing.push(reference);
    return '';
  });
  return { value: out, missing, wholeValue: whole && count === 1 };
}

export function hasPlaceholder(value: string): boolean {
  return value.includes('STWREF');
}
