import type { RequestContext } from './request-context.js';

/** Resolves when the client can take more, or when the request is aborted (client gone, timeout). */
export function drained(ctx: RequestContext): Promise<void> {
  const { res, abort } = ctx;
  if (abort.signal.aborted) return Promise.reject(abort.signal.reason);
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      abort.signal.removeEventListener('abort', onAbort);
      resolve();
    };
    const onAbort = () => {
      res.off('drain', onDrain);
      reject(abort.signal.reason);
    };
    res.once('drain', onDrain);
    abort.signal.addEventListener('abort', onAbort, { once: true });
  });
}
