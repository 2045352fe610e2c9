import cluster from 'node:cluster';
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type RegistryContentType } from 'prom-client';

let workerAnswers: AggregatorRegistry<RegistryContentType> | undefined;

/**
 * One Prometheus registry per app instance (tests start many apps in one process, so the
 * global default registry is not used). Other modules add their own metrics to `registry`.
 * In a worker of `WORKERS=n` the primary sums the workers' registries for /metrics; gauges that
 * every worker reports alike (stall, projection lag) are aggregated as a max, not a sum.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly httpDuration = new Histogram({
    name: 'vagen_http_request_duration_seconds',
    help: 'HTTP request latency by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
    registers: [this.registry],
  });
  readonly httpRequests = new Counter({
    name: 'vagen_http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly eventsAppended = new Counter({
    name: 'vagen_events_appended_total',
    help: 'Events appended to the event store',
    registers: [this.registry],
  });
  readonly readerStallSeconds = new Gauge({
    name: 'vagen_event_store_reader_stall_seconds',
    help: 'How long global readers have been held back by the oldest open writing transaction',
    aggregator: 'max',
    registers: [this.registry],
  });
  readonly projectionLagEvents = new Gauge({
    name: 'vagen_projection_lag_events',
    help: 'Events not yet processed, per projection',
    labelNames: ['projection'] as const,
    aggregator: 'max',
    registers: [this.registry],
  });
  readonly projectionLagSeconds = new Gauge({
    name: 'vagen_projection_lag_seconds',
    help: 'Age of the oldest unprocessed event, per projection',
    labelNames: ['projection'] as const,
    aggregator: 'max',
    registers: [this.registry],
  });
  readonly projectionEvents = new Counter({
    name: 'vagen_projection_events_processed_total',
    help: 'Events processed, per projection',
    labelNames: ['projection'] as const,
    registers: [this.registry],
  });

  constructor(collectDefaults = true) {
    if (collectDefaults) collectDefaultMetrics({ register: this.registry, prefix: 'vagen_' });
    // One app per worker process: its registry is what the worker reports to the primary
    // (constructing an AggregatorRegistry is what makes prom-client answer the primary).
    if (cluster.isWorker) {
      workerAnswers ??= new AggregatorRegistry();
      AggregatorRegistry.setRegistries([this.registry]);
    }
  }
}
