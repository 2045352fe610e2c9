/**
 * The panel export's HTTP client for bench/insight.bench.ts, run as a child process of its own
 * (`fork`): reading and counting a 75 MB answer costs CPU, and in the service's process it
 * competed with the service for the event loop and a core, so the export rate measured the two
 * together. Plain node:http (the WHATWG stream reader of fetch costs more than the service).
 *
 * Protocol over the IPC channel: the parent sends { url, token, countLines }; the child answers
 * { bytes, newlines, seconds, cpuSeconds, maxRssMb } (seconds: request sent → last byte) or
 * { error }. It stays until the parent disconnects, so its start-up is never measured.
 */
import { get } from 'node:http';

interface Request {
  url: string;
  token: string;
  countLines: boolean;
}

function download({ url, token, countLines }: Request): Promise<{ bytes: number; newlines: number; seconds: number; cpuSeconds: number; maxRssMb: number }> {
  return new Promise((resolve, reject) => {
    const cpu = process.cpuUsage();
    const started = performance.now();
    const req = get(url, { headers: { authorization: `Bearer ${token}` } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return reject(new Error(`${url}: HTTP ${res.statusCode}`));
      }
      let bytes = 0;
      let newlines = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (countLines) for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) newlines++;
      });
      res.on('end', () => {
        const seconds = (performance.now() - started) / 1000;
        const used = process.cpuUsage(cpu);
        resolve({ bytes, newlines, seconds, cpuSeconds: (used.user + used.system) / 1e6, maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

process.on('message', (m: Request) => {
  download(m).then(
    (result) => process.send!(result),
    (e: unknown) => process.send!({ error: e instanceof Error ? e.message : String(e) }),
  );
});
process.send!({ ready: true });
