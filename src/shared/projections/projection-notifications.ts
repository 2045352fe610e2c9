import type pg from 'pg';
import { sleep } from './batch-stream.js';

export type ProjectionNotice =
  /** A build's checkpoint moved (sent by its runner in the checkpoint's transaction). */
  | { t: 'progress'; name: string; schema: string; state: 'building' | 'live' | 'retired'; position: number }
  /** A build went live (the old one is retired). */
  | { t: 'switch'; name: string; schema: string; position: number }
  /** A build was created (rebuild requested): instances reconcile their runners. */
  | { t: 'catalog'; name: string };

export const CHANNEL = 'vagen_projections';

/**
 * One LISTEN connection per instance, so waiters and runners of every instance hear about
 * checkpoints and switches made anywhere within milliseconds. Reconnects on its own; `reconnected`
 * lets the consumers re-read what they may have missed while it was down.
 */
export class ProjectionListener {
  private client: pg.Client | undefined;
  private stopped = false;
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(
    private readonly connect: () => Promise<pg.Client>,
    private readonly onNotice: (n: ProjectionNotice) => void,
    private readonly reconnected: () => void,
    private readonly log: { warn(msg: string): void },
  ) {}

  /** Resolves once listening (or after the first failed attempt; it keeps retrying). */
  async start(): Promise<void> {
    let first!: () => void;
    const ready = new Promise<void>((r) => (first = r));
    this.loop = this.run(first);
    await ready;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.client?.end().catch(() => undefined);
    await this.loop;
  }

  private async run(ready: () => void): Promise<void> {
    let attempt = 0;
    while (!this.stopped) {
      try {
        const client = await this.connect();
        this.client = client;
        const closed = new Promise<void>((resolve) => {
          client.on('error', () => resolve());
          client.on('end', () => resolve());
        });
        client.on('notification', (m) => {
          if (m.channel !== CHANNEL || !m.payload) return;
          try {
            this.onNotice(JSON.parse(m.payload) as ProjectionNotice);
          } catch {
            /* not ours */
          }
        });
        await client.query(`LISTEN ${CHANNEL}`);
        if (attempt > 0) this.reconnected();
        attempt = 0;
        ready();
        await closed;
        await client.end().catch(() => undefined);
      } catch (e) {
        if (!this.stopped) this.log.warn(`projection listener: ${e instanceof Error ? e.message : String(e)}`);
      }
      ready();
      this.client = undefined;
      if (this.stopped) break;
      attempt++;
      await sleep(Math.min(5000, 100 * 2 ** Math.min(attempt, 6)), this.abort.signal);
    }
  }
}
