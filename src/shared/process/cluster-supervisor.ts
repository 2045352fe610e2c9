import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';

/** Set in a worker's environment: its number, 1…n (worker 1 seeds the demo and prints the welcome). */
export const WORKER_ENV = 'VAGEN_WORKER';
export const METRICS_REQUEST = 'vagen:metrics-request';
export const METRICS_RESPONSE = 'vagen:metrics-response';

export interface MetricsRequest {
  type: typeof METRICS_REQUEST;
  id: number;
}
export interface MetricsResponse {
  type: typeof METRICS_RESPONSE;
  id: number;
  text?: string;
  error?: string;
}

export interface SupervisorOptions {
  workers: number;
  /** Added to every worker's environment (e.g. the embedded PostgreSQL's DATABASE_URL). */
  env: Record<string, string>;
  /** Where the primary reports a worker it replaced. */
  log: (line: string) => void;
  /**
   * A worker that dies before it listens, or within this long after, is not replaced: the whole
   * service stops instead, so a start-up failure (bad database, port taken) does not loop.
   */
  minUptimeMs?: number;
  /** How long `stop` waits for workers to finish their requests before it kills them. */
  stopTimeoutMs?: number;
}

interface Slot {
  worker: Worker;
  listeningAt?: number;
}

/**
 * The primary process of `WORKERS=n`: it runs no Nest app and opens no database connection. It
 * forks n workers (node:cluster: they share the listening socket and the primary hands each new
 * connection to the next worker in turn), replaces a worker that dies after it has been serving,
 * forwards a stop to all of them and waits for them, and answers `/metrics` for the whole
 * service: a worker asked for /metrics asks the primary, which sums the workers' registries
 * (prom-client's AggregatorRegistry; gauges that every worker reports alike are taken as a max).
 * Worker 1 keeps the DEMO setting (it seeds the demo and prints the welcome); the others, and
 * every replacement, run with DEMO=false.
 */
export class ClusterSupervisor {
  private readonly slots = new Map<number, Slot>();
  private readonly aggregator = new AggregatorRegistry();
  private stopping = false;
  private failure?: (e: Error) => void;
  /** Resolves when a worker could not start, or died soon after: the service should stop. */
  readonly failed: Promise<Error>;

  constructor(private readonly options: SupervisorOptions) {
    this.failed = new Promise((resolve) => (this.failure = resolve));
  }

  /** Forks every worker; resolves once all of them listen, or one has failed (see `failed`). */
  async start(): Promise<void> {
    const started = Array.from({ length: this.options.workers }, (_, i) => this.fork(i + 1, false));
    await Promise.race([Promise.all(started), this.failed]);
  }

  /** Asks every worker to stop (SIGTERM: each finishes its requests and closes), waits, kills stragglers. */
  async stop(): Promise<void> {
    this.stopping = true;
    const alive = [...this.slots.values()].map((s) => s.worker).filter((w) => !w.isDead());
    const exited = alive.map((w) => new Promise<void>((resolve) => (w.isDead() ? resolve() : w.once('exit', () => resolve()))));
    for (const w of alive) w.process.kill('SIGTERM');
    const timeout = setTimeout(() => {
      for (const w of alive) if (!w.isDead()) w.process.kill('SIGKILL');
    }, this.options.stopTimeoutMs ?? 15_000);
    await Promise.all(exited);
    clearTimeout(timeout);
  }

  private fork(index: number, replacement: boolean): Promise<void> {
    const env: Record<string, string> = { ...this.options.env, [WORKER_ENV]: String(index) };
    if (index > 1 || replacement) env.DEMO = 'false';
    const worker = cluster.fork(env);
    const slot: Slot = { worker };
    this.slots.set(index, slot);
    worker.on('message', (m: unknown) => this.onMessage(worker, m));
    return new Promise((resolve) => {
      worker.once('listening', () => {
        slot.listeningAt = Date.now();
        resolve();
      });
      worker.once('exit', (code, signal) => {
        if (this.slots.get(index) === slot) this.slots.delete(index);
        if (this.stopping) return;
        const how = signal ? `signal ${signal}` : `code ${code}`;
        const upMs = slot.listeningAt === undefined ? undefined : Date.now() - slot.listeningAt;
        if (upMs === undefined || upMs < (this.options.minUptimeMs ?? 10_000)) {
          this.failure?.(new Error(`worker ${index} (pid ${worker.process.pid}) exited with ${how} ${upMs === undefined ? 'before it listened' : `${Math.round(upMs / 1000)} s after it started`}`));
          return;
        }
        this.options.log(`worker ${index} (pid ${worker.process.pid}) exited with ${how}; starting another`);
        void this.fork(index, true);
      });
    });
  }

  private onMessage(worker: Worker, m: unknown): void {
    if (!m || typeof m !== 'object' || (m as MetricsRequest).type !== METRICS_REQUEST) return;
    const { id } = m as MetricsRequest;
    const answer = (r: Omit<MetricsResponse, 'type' | 'id'>) => {
      if (worker.isConnected()) worker.send({ type: METRICS_RESPONSE, id, ...r } satisfies MetricsResponse);
    };
    this.aggregator.clusterMetrics().then(
      (text) => answer({ text }),
      (e: unknown) => answer({ error: e instanceof Error ? e.message : String(e) }),
    );
  }
}
