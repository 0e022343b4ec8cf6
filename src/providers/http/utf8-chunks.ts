import { StringDecoder } from 'node:string_decoder';

/**
 * Decodes a body's chunks as UTF-8 text as they arrive: a character split between two chunks is
 * completed by the next, malformed bytes become U+FFFD, and a byte order mark at the start is
 * dropped (as TextDecoder does). Not TextDecoder: with `stream: true` Node decodes through ICU
 * and returns two-byte strings even for ASCII, which every later step (the SSE parser, JSON.parse,
 * the regular expressions, the socket write's re-encoding) then handles more slowly; StringDecoder
 * is native and keeps ASCII text one byte per character.
 */
export class Utf8Chunks {
  readonly #decoder = new StringDecoder('utf8');
  #started = false;

  decode(chunk: Uint8Array): string {
    const text = this.#decoder.write(chunk as Buffer);
    if (this.#started || text.length === 0) return text;
    this.#started = true;
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  }
}
