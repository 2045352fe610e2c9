/**
 * Reads one batch ahead: while the runner writes batch N in its transaction, the store is already
 * fetching and parsing batch N+1 on another connection. Reading and writing overlap, which is most
 * of what makes a rebuild run near the speed of a plain scan. At most two batches are in memory.
 */
export async function* readAhead<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  let next = it.next();
  try {
    for (;;) {
      const r = await next;
      if (r.done) return;
      next = it.next();
      // If the consumer stops early, nobody awaits this one: keep its rejection from going unhandled.
      next.catch(() => undefined);
      yield r.value;
    }
  } finally {
    // Not awaited: a live subscription's pending next() only settles when it is closed, which the
    // caller does right after leaving the loop.
    void Promise.resolve()
      .then(() => it.return?.())
      .catch(() => undefined);
  }
}

/** Events per second over a sliding window of recent batches. */
export class RateMeter {
  private readonly samples: { at: number; n: number }[] = [];
  constructor(private readonly windowMs = 10_000) {}

  add(n: number, at = Date.now()): void {
    this.samples.push({ at, n });
    while (this.samples.length > 1 && this.samples[0]!.at < at - this.windowMs) this.samples.shift();
  }

  perSecond(at = Date.now()): number {
    const recent = this.samples.filter((s) => s.at >= at - this.windowMs);
    if (recent.length === 0) return 0;
    const total = recent.reduce((sum, s) => sum + s.n, 0);
    // Over the window actually covered, so a fresh build is not under-reported.
    const span = Math.max(at - recent[0]!.at, 1000);
    return (total * 1000) / span;
  }
}

/** A sleep that ends early when the signal aborts (runners must stop promptly on shutdown). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Exponential backoff after the n-th failure in a row: base, 2·base, 4·base… capped. */
export function backoffMs(failures: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, Math.min(failures - 1, 30)));
}
