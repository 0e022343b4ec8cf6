import type { ServerResponse } from 'node:http';

/**
 * Writes one stream event, batching all the events written in the same turn of the event loop
 * (those parsed from one upstream read) into one socket write: the response is corked at the
 * first and uncorked on the next tick. Returns what `write` returns, for backpressure; a caller
 * that then waits for 'drain' lets the tick come, so the batch is flushed.
 */
export function writeBatched(res: ServerResponse, text: string): boolean {
  if (res.writableCorked === 0) {
    res.cork();
    process.nextTick(uncork, res);
  }
  return res.write(text);
}

function uncork(res: ServerResponse): void {
  if (res.writableCorked > 0) res.uncork();
}
