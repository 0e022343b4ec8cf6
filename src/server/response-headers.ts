import type { OutgoingHttpHeader, OutgoingHttpHeaders, ServerResponse } from 'node:http';

/**
 * The headers of a request's answer, collected while the request goes its way and sent with the
 * status in one `writeHead`. Node validates and stores each `res.setHeader` on its own, and a
 * `writeHead` after any of them takes its slow path (every header of the call set one by one,
 * then all of them merged); from one list it validates each header once as it writes it. That
 * difference was larger than a governed request's whole limit check: its six rate-limit headers
 * cost about 37,000 instructions per answer as setHeader calls.
 *
 * Names are lower case (Stellwerk's own literals); setting one again replaces it, as setHeader
 * does. After the answer's head is written, setting one throws, as setHeader does.
 */
export class ResponseHeaders {
  /** name, value, name, value, … */
  readonly #fields: OutgoingHttpHeader[] = [];
  #sent = false;

  set(name: string, value: string): void {
    if (this.#sent) throw new Error(`cannot set the header ${name}: the answer's head is written`);
    this.#replace(name, value);
  }

  get(name: string): OutgoingHttpHeader | undefined {
    const fields = this.#fields;
    for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
    return undefined;
  }

  delete(name: string): void {
    const fields = this.#fields;
    for (let i = 0; i < fields.length; i += 2) {
      if (fields[i] === name) {
        fields.splice(i, 2);
        return;
      }
    }
  }

  /** Writes the status with these headers and `more` (which replace collected ones of the same name). */
  writeHead(res: ServerResponse, status: number, more?: Readonly<OutgoingHttpHeaders>): void {
    if (more !== undefined) {
      for (const name in more) {
        const value = more[name];
        if (value !== undefined) this.#replace(name, value);
      }
    }
    this.#sent = true;
    res.writeHead(status, this.#fields);
  }

  #replace(name: string, value: OutgoingHttpHeader): void {
    const fields = this.#fields;
    for (let i = 0; i < fields.length; i += 2) {
      if (fields[i] === name) {
        fields[i + 1] = value;
        return;
      }
    }
    fields.push(name, value);
  }
}
