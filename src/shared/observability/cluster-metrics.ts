import cluster from 'node:cluster';
import { METRICS_REQUEST, METRICS_RESPONSE, type MetricsRequest, type MetricsResponse } from '../process/cluster-supervisor.js';

let nextId = 0;

/** True in a worker of `WORKERS=n` (see ClusterSupervisor), where /metrics speaks for every worker. */
export function inClusterWorker(): boolean {
  return cluster.isWorker && typeof process.send === 'function';
}

/** The metrics of every worker of the service, summed by the primary. */
export function clusterMetrics(timeoutMs = 5000): Promise<string> {
  const id = ++nextId;
  return new Promise((resolve, reject) => {
    const onMessage = (m: unknown) => {
      if (!m || typeof m !== 'object' || (m as MetricsResponse).type !== METRICS_RESPONSE || (m as MetricsResponse).id !== id) return;
      done();
      const r = m as MetricsResponse;
      if (r.text !== undefined) resolve(r.text);
      else reject(new Error(`metrics of the other workers: ${r.error ?? 'no answer'}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`metrics of the other workers: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      process.off('message', onMessage);
    };
    process.on('message', onMessage);
    process.send!({ type: METRICS_REQUEST, id } satisfies MetricsRequest);
  });
}
