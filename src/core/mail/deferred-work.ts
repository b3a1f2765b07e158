/**
 * Work a request starts but does not wait for: what an answer must not reveal by its timing (an
 * emailed link is looked up and queued after "check your inbox" is sent, known address or not).
 * {@link settle} waits for all of it (shutdown, tests).
 */
export class DeferredWork {
  readonly #pending = new Set<Promise<void>>();
  readonly #onError: (error: unknown) => void;

  constructor(onError: (error: unknown) => void) {
    this.#onError = onError;
  }

  /** Starts `task` on a later turn of the event loop; its failure goes to `onError`. */
  run(task: () => Promise<void>): void {
    const done: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
      .then(task)
      .catch((error: unknown) => this.#onError(error))
      .finally(() => this.#pending.delete(done));
    this.#pending.add(done);
  }

  /** Resolves when every task started so far has finished. */
  async settle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }
}
