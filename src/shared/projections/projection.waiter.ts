import type { Pool } from 'pg';
import { Problem } from '../http/problem.js';
import { liveBuild } from './projection-catalog.js';

interface Waiter {
  name: string;
  position: number;
  done(): void;
}

/**
 * "Write then read" without stale reads: a command answers with the position of its last event
 * (`X-Event-Position`), and a read with `?minPosition=` waits here until the projections it reads
 * have processed that position.
 *
 * No polling on the happy path: runners of this instance report every checkpoint directly, and
 * those of other instances through NOTIFY (see ProjectionListener). A slow re-read of the catalog
 * once a second only covers notifications lost while the listener reconnects.
 */
export class ProjectionWaiter {
  /** Highest checkpoint known per projection (its live build). Inline projections: +Infinity once live. */
  private readonly reached = new Map<string, number>();
  private readonly waiters = new Set<Waiter>();

  constructor(
    private readonly pool: Pool,
    private readonly kindOf: (name: string) => 'inline' | 'async' | undefined,
    private readonly defaultTimeoutMs: number,
  ) {}

  /**
   * Resolves when every named projection has processed `position`; otherwise, after the timeout,
   * throws a 503 problem with `Retry-After: 1`.
   */
  async waitFor(names: string | readonly string[], position: number, timeoutMs = this.defaultTimeoutMs): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const name of typeof names === 'string' ? [names] : names) await this.waitOne(name, position, deadline);
  }

  /** Called with every checkpoint of a live build (local runner or notification). */
  advance(name: string, position: number): void {
    if ((this.reached.get(name) ?? -1) >= position) return;
    this.reached.set(name, position);
    for (const w of this.waiters) if (w.name === name && w.position <= position) w.done();
  }

  /** The listener reconnected: anything may have been missed. */
  forgetAll(): void {
    this.reached.clear();
    for (const w of this.waiters) void this.refresh(w.name).catch(() => undefined);
  }

  /** Where the projection's live build is now, read from the catalog. */
  async refresh(name: string): Promise<number> {
    const live = await liveBuild(this.pool, name);
    // An inline build is written in the append's transaction: anything committed is in it.
    const position = !live ? -1 : live.kind === 'inline' ? Number.POSITIVE_INFINITY : live.position;
    this.advance(name, position);
    return this.reached.get(name) ?? -1;
  }

  private async waitOne(name: string, position: number, deadline: number): Promise<void> {
    if (this.kindOf(name) === undefined) throw new Error(`No projection named "${name}" is registered`);
    if ((this.reached.get(name) ?? -1) >= position) return;
    if ((await this.refresh(name)) >= position) return;
    await new Promise<void>((resolve, reject) => {
      const safetyNet = setInterval(() => void this.refresh(name).catch(() => undefined), 1000);
      const timer = setTimeout(() => {
        void this.refresh(name)
          .catch(() => -1)
          .then((at) => {
            if (at >= position) return w.done();
            finish();
            reject(
              new Problem(503, 'projection-lagging', `The read model "${name}" has not yet processed position ${position} (it is at ${Math.max(at, 0)}). Try again shortly.`, {
                headers: { 'Retry-After': '1' },
              }),
            );
          });
      }, Math.max(0, deadline - Date.now()));
      const finish = () => {
        clearInterval(safetyNet);
        clearTimeout(timer);
        this.waiters.delete(w);
      };
      const w: Waiter = {
        name,
        position,
        done: () => {
          finish();
          resolve();
        },
      };
      this.waiters.add(w);
    });
  }
}
