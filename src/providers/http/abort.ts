import { GatewayError } from '../../core/errors.js';

/** The reason a call's signal fired, as a GatewayError (a client that left, unless a timeout said otherwise). */
export function abortReason(signal: AbortSignal): GatewayError {
  const reason: unknown = signal.reason;
  return reason instanceof GatewayError ? reason : new GatewayError('client_closed_request');
}

/**
 * Waits for a shared promise (e.g. one token fetch for many requests), but gives up with the
 * abort reason when this caller's signal fires; the shared work goes on for the others.
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
