import { GatewayError } from '../../core/errors.js';

/**
 * The part of AbortSignal that upstream calls use: undici's `signal` option, node:timers/promises,
 * and the adapters read `aborted` and `reason` and add or remove one 'abort' listener. A real
 * AbortSignal fits it, and so does {@link CallSignal}.
 */
export interface AbortLike {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * The abort signal of one upstream attempt, fired by the client leaving or by the total timeout.
 * Written here rather than using AbortController because every attempt makes one: Node's
 * AbortController/AbortSignal pair is an EventTarget, and creating it and adding and removing a
 * listener showed up in profiles as the largest single cost of an attempt's bookkeeping. An
 * attempt has one or two listeners at a time, kept in a small array; they run once, on abort.
 */
export class CallSignal implements AbortLike {
  aborted = false;
  reason: unknown = undefined;
  #listeners: (() => void)[] | null = null;

  addEventListener(type: 'abort', listener: () => void): void {
    if (type !== 'abort' || this.aborted) return;
    (this.#listeners ??= []).push(listener);
  }

  removeEventListener(type: 'abort', listener: () => void): void {
    const listeners = this.#listeners;
    if (type !== 'abort' || listeners === null) return;
    const index = listeners.indexOf(listener);
    if (index !== -1) listeners.splice(index, 1);
  }

  /** Fires once: sets the reason and calls each listener (later calls do nothing). */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.#listeners;
    this.#listeners = null;
    if (listeners !== null) for (const listener of listeners) listener();
  }

}

/**
 * For APIs typed to take an AbortSignal that use only its {@link AbortLike} part: undici's
 * `request({ signal })` (it accepts any object with addEventListener) and node:timers/promises
 * (it checks for an `aborted` property).
 */
export function asAbortSignal(signal: AbortLike): AbortSignal {
  return signal as unknown as AbortSignal;
}

/** The reason a call's signal fired, as a GatewayError (a client that left, unless a timeout said otherwise). */
export function abortReason(signal: AbortLike): GatewayError {
  const reason: unknown = signal.reason;
  return reason instanceof GatewayError ? reason : new GatewayError('client_closed_request');
}

/**
 * Waits for a shared promise (e.g. one token fetch for many requests), but gives up with the
 * abort reason when this caller's signal fires; the shared work goes on for the others.
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortLike): Promise<T> {
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
