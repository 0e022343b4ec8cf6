const LATER_MAX = 64;

/**
 * What a stream has said so far, kept only so that its tokens can be counted if the upstream
 * never reports usage. Per chunk it costs a property walk and an array push of strings that
 * already exist (no copying, no tokenizing); the text is joined and counted once, at the end,
 * and only when needed.
 */
export class StreamTally {
  private readonly pieces: string[] = [];
  /** Chunks noted by `observeLater`, not yet looked at; at most LATER_MAX of them. */
  private later: { readonly value: unknown }[] = [];
  #chars = 0;

  /** Characters of text noted so far. */
  get chars(): number {
    this.drain();
    return this.#chars;
  }

  /**
   * Notes a chunk without parsing it yet: a relay that sends ordinary chunks on as their raw text
   * need not parse them at all, since usage nearly always arrives and the tally is then never
   * read. At most LATER_MAX wait; past that they are looked at, so memory stays bounded on
   * long streams.
   */
  observeLater(event: { readonly value: unknown }): void {
    this.later.push(event);
    if (this.later.length >= LATER_MAX) this.drain();
  }

  /** Notes the generated text of one OpenAI-shaped chunk (chat deltas, completions text, tool-call arguments). */
  observe(chunk: unknown): void {
    this.drain(); // in stream order
    const choices = (chunk as { choices?: unknown } | null)?.choices;
    if (!Array.isArray(choices)) return;
    for (const choice of choices as { delta?: Record<string, unknown>; text?: unknown }[]) {
      if (choice === null || typeof choice !== 'object') continue;
      if (typeof choice.text === 'string') this.add(choice.text);
      const delta = choice.delta;
      if (delta === undefined || delta === null) continue;
      if (typeof delta.content === 'string') this.add(delta.content);
      if (typeof delta.reasoning_content === 'string') this.add(delta.reasoning_content);
      if (Array.isArray(delta.tool_calls)) {
        for (const call of delta.tool_calls as { function?: { name?: unknown; arguments?: unknown } }[]) {
          if (typeof call?.function?.name === 'string') this.add(call.function.name);
          if (typeof call?.function?.arguments === 'string') this.add(call.function.arguments);
        }
      }
    }
  }

  text(): string {
    this.drain();
    return this.pieces.join('');
  }

  private drain(): void {
    const later = this.later;
    if (later.length === 0) return;
    this.later = [];
    for (const event of later) {
      try {
        this.observe(event.value);
      } catch {
        // A chunk that is not JSON says nothing countable.
      }
    }
  }

  private add(piece: string): void {
    if (piece.length === 0) return;
    this.pieces.push(piece);
    this.#chars += piece.length;
  }
}
