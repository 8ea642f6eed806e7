/**
 * Everything a command opens, closed in one place. Each resource is added the moment it is
 * opened; `close` runs the closers in reverse order, once, on every exit path (a result, an
 * error, a signal, the timeout). A closer that fails is reported and the rest still run: a
 * terminal that hung up must not keep the journal open or the lock held.
 */
export type Closer<E> = (ending: E) => void | Promise<void>;

export class CloseList<E> {
  private readonly closers: { name: string; close: Closer<E> }[] = [];
  private closed = false;

  /** @param warn says which closer failed, and why. */
  constructor(private readonly warn: (text: string) => void) {}

  /** Adds what closes a resource just opened; it runs before everything added earlier. */
  add(name: string, close: Closer<E>): void {
    this.closers.push({ name, close });
  }

  async close(ending: E): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (let closer = this.closers.pop(); closer; closer = this.closers.pop()) {
      try {
        await closer.close(ending);
      } catch (error) {
        this.warn(
          `closing the ${closer.name} failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
  }
}
