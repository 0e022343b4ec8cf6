import type { PiiType } from './types.js';

/** A placeholder as the guard writes it: `<PERSON_1>`, `<IBAN_2>`. */
export const PLACEHOLDER = /<([A-Z]+(?:_[A-Z]+)*)_(\d{1,6})>/g;

/**
 * The placeholders of one request: the same value always gets the same placeholder, across all
 * messages of the conversation the request carries, and only placeholders handed out here are
 * ever restored. A placeholder that already stood in the client's text is never handed out, so
 * the model repeating the client's literal text cannot turn it into someone's data.
 */
export class Pseudonyms {
  private readonly byValue = new Map<string, string>();
  /** Placeholder → original value. */
  readonly originals = new Map<string, string>();
  private readonly counters = new Map<string, number>();
  private readonly literal = new Set<string>();
  /** Longest placeholder handed out (bounds what a stream holds back). */
  longest = 0;

  /** Notes placeholders that are part of the client's own text. */
  reserveLiterals(text: string): void {
    if (!text.includes('<')) return;
    for (const match of text.matchAll(PLACEHOLDER)) this.literal.add(match[0]);
  }

  placeholderFor(type: PiiType, value: string): string {
    const key = `${type}\u0000${value}`;
    const known = this.byValue.get(key);
    if (known !== undefined) return known;
    const label = type.toUpperCase();
    let n = this.counters.get(label) ?? 0;
    let placeholder: string;
    do placeholder = `<${label}_${++n}>`;
    while (this.literal.has(placeholder));
    this.counters.set(label, n);
    this.byValue.set(key, placeholder);
    this.originals.set(placeholder, value);
    this.longest = Math.max(this.longest, placeholder.length);
    return placeholder;
  }

  get size(): number {
    return this.originals.size;
  }

  /** Whether `tail` (starting with `<`) could still grow into a placeholder handed out here. */
  couldBecome(tail: string): boolean {
    if (tail.length >= this.longest) return false;
    for (const placeholder of this.originals.keys()) if (placeholder.startsWith(tail)) return true;
    return false;
  }
}

/**
 * Puts the originals back for the placeholders handed out in this request; anything else that
 * looks like a placeholder (invented or mangled by the model) stays as it is. `json`: the text is
 * inside a JSON string (tool-call arguments), so the original is escaped for it.
 */
export function restoreText(text: string, pseudonyms: Pseudonyms, json = false): string {
  if (!text.includes('<')) return text;
  return text.replace(PLACEHOLDER, (placeholder) => {
    const original = pseudonyms.originals.get(placeholder);
    if (original === undefined) return placeholder;
    return json ? JSON.stringify(original).slice(1, -1) : original;
  });
}

/**
 * Restores a text that arrives in pieces. Holds back only a tail that could still become a
 * placeholder of this request (from its last `<`, shorter than the longest placeholder), never more.
 */
export class StreamRestorer {
  private pending = '';

  constructor(
    private readonly pseudonyms: Pseudonyms,
    private readonly json: boolean,
  ) {}

  push(piece: string): string {
    const text = this.pending + piece;
    const cut = text.lastIndexOf('<');
    if (cut >= 0 && this.pseudonyms.couldBecome(text.slice(cut))) {
      this.pending = text.slice(cut);
      return restoreText(text.slice(0, cut), this.pseudonyms, this.json);
    }
    this.pending = '';
    return restoreText(text, this.pseudonyms, this.json);
  }

  /** The held-back tail at the end of the text: it never became a placeholder. */
  flush(): string {
    const rest = this.pending;
    this.pending = '';
    return rest;
  }

  get holding(): boolean {
    return this.pending.length > 0;
  }
}
