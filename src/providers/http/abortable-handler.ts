import type { Dispatcher } from 'undici';
import type { AbortLike } from './abort.js';

/**
 * The part of an undici dispatch handler that ties one request to its call's signal: when the
 * signal fires, a request under way is aborted (undici then reports the reason to onError), and
 * one not yet connected fails at once and is aborted as soon as it connects.
 */
export abstract class AbortableHandler implements Pick<Dispatcher.DispatchHandler, 'onConnect' | 'onError'> {
  protected abortRequest: ((reason?: Error) => void) | null = null;
  private readonly onAbort = (): void => {
    const reason = this.signal.reason as Error;
    if (this.abortRequest !== null) this.abortRequest(reason);
    else this.onError(reason);
  };

  constructor(protected readonly signal: AbortLike) {
    signal.addEventListener('abort', this.onAbort);
  }

  /** Whether the handler has given its answer (or failure) already: a late connection is aborted. */
  protected abstract get finished(): boolean;

  abstract onError(error: Error): void;

  onConnect(abort: (reason?: Error) => void): void {
    if (this.finished) abort((this.signal.reason as Error | undefined) ?? new Error('request no longer wanted'));
    else this.abortRequest = abort;
  }

  /** Called once the handler is finished: the signal no longer concerns this request. */
  protected detachSignal(): void {
    this.signal.removeEventListener('abort', this.onAbort);
  }
}
