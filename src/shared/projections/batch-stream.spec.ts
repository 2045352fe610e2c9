import { backoffMs, RateMeter, readAhead, sleep } from './batch-stream.js';

describe('readAhead', () => {
  it('asks the source for the next batch while the consumer still works on the current one', async () => {
    const log: string[] = [];
    async function* source() {
      for (let i = 1; i <= 3; i++) {
        log.push(`read ${i}`);
        yield i;
      }
    }
    for await (const n of readAhead(source())) {
      log.push(`start ${n}`);
      await sleep(5);
      log.push(`end ${n}`);
    }
    // Batch 2 is read before batch 1 is done, and never more than one batch ahead.
    expect(log).toEqual(['read 1', 'read 2', 'start 1', 'end 1', 'read 3', 'start 2', 'end 2', 'start 3', 'end 3']);
  });

  it('passes the source error on, and a consumer that stops early leaves no unhandled rejection', async () => {
    async function* failing() {
      yield 1;
      throw new Error('read failed');
    }
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const n of readAhead(failing())) seen.push(n);
      })(),
    ).rejects.toThrow('read failed');
    expect(seen).toEqual([1]);
    for await (const _ of readAhead(failing())) break;
    await sleep(5);
  });
});

describe('RateMeter and backoff', () => {
  it('reports events per second over the recent window only', () => {
    const m = new RateMeter(10_000);
    m.add(1000, 0);
    m.add(1000, 1000);
    m.add(1000, 2000);
    expect(m.perSecond(2000)).toBe(1500); // 3000 events over the 2 s the window covers
    expect(m.perSecond(30_000)).toBe(0);
  });

  it('doubles the pause after each failure in a row, up to the cap', () => {
    expect([1, 2, 3, 4, 10, 100].map((n) => backoffMs(n, 500, 30_000))).toEqual([500, 1000, 2000, 4000, 30_000, 30_000]);
  });

  it('ends a sleep early when aborted', async () => {
    const abort = new AbortController();
    const started = Date.now();
    const s = sleep(10_000, abort.signal);
    abort.abort();
    await s;
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
