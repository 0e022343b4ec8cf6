/**
 * The script calls a batch (of admissions or of settlements) has sent and not yet seen answered.
 * Each call is made so that a synchronous throw becomes its failure, its answer or failure goes to
 * the batch's handler, and `settled` waits until every call made so far is through (a backend
 * drains its batches this way before it closes the connection).
 */
export class CallsInFlight {
  readonly #calls = new Set<Promise<void>>();

  /** `answered` and `failed` must not throw: nothing waits for them but `settled`. */
  make<T>(send: () => Promise<T>, answered: (value: T) => void, failed: (error: unknown) => void): void {
    let call: Promise<T>;
    try {
      call = send();
    } catch (error) {
      call = Promise.reject(error);
    }
    const done = call.then(answered, failed);
    this.#calls.add(done);
    void done.finally(() => this.#calls.delete(done));
  }

  async settled(): Promise<void> {
    await Promise.all(this.#calls);
  }
}
