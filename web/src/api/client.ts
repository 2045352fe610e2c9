import { randomUrlSafe } from '../auth/pkce';

/** RFC 9457 problem details, as the API answers every error. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: { path: string; message: string }[];
  [extension: string]: unknown;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(problem.detail || problem.title || `HTTP ${status}`);
  }
}

export type Query = Record<string, string | number | boolean | null | undefined | string[]>;

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  body?: unknown;
  query?: Query;
  /** The case version the user saw; the API answers 412 when the case has changed since. */
  ifMatch?: number | string;
  idempotencyKey?: string;
  accept?: string;
  signal?: AbortSignal;
}

export interface ApiResponse<T> {
  status: number;
  data: T;
  /** The ETag without quotes: the case version. */
  etag: string | null;
  position: string | null;
  replayed: boolean;
  headers: Headers;
}

type TokenSource = () => string | null;
let tokenSource: TokenSource = () => null;
let onUnauthorized: () => void = () => {};
/** The newest event position this tab has written: reads pass it as minPosition, so they are never stale. */
let lastPosition: string | null = null;

export function configureApi(opts: { token: TokenSource; onUnauthorized: () => void }): void {
  tokenSource = opts.token;
  onUnauthorized = opts.onUnauthorized;
}

export function resetPosition(): void {
  lastPosition = null;
}

export function newIdempotencyKey(): string {
  return `web-${randomUrlSafe(18)}`;
}

export function buildUrl(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue;
    params.set(k, Array.isArray(v) ? v.join(',') : String(v));
  }
  const qs = params.toString();
  return qs ? `${path}${path.includes('?') ? '&' : '?'}${qs}` : path;
}

function parseEtag(h: string | null): string | null {
  if (!h) return null;
  const m = /^(?:W\/)?"([^"]*)"$/.exec(h.trim());
  return m ? m[1]! : h;
}

function positionAfter(a: string | null, b: string | null): string | null {
  if (!a) return b;
  if (!b) return a;
  try {
    return BigInt(b) > BigInt(a) ? b : a;
  } catch {
    return b;
  }
}

export async function api<T>(path: string, opts: RequestOptions = {}): Promise<ApiResponse<T>> {
  const method = opts.method ?? 'GET';
  const query: Query = { ...opts.query };
  // Reads of tenant data wait for the projections to have seen this tab's own writes.
  if (method === 'GET' && lastPosition && path.startsWith('/api/v1/municipalities/') && query.minPosition === undefined) {
    query.minPosition = lastPosition;
  }
  const headers: Record<string, string> = { accept: opts.accept ?? 'application/json' };
  const token = tokenSource();
  if (token) headers.authorization = `Bearer ${token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (opts.ifMatch !== undefined) headers['if-match'] = `"${opts.ifMatch}"`;
  if (opts.idempotencyKey) headers['idempotency-key'] = opts.idempotencyKey;
  const res = await fetch(buildUrl(path, query), {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    signal: opts.signal,
  });
  const position = res.headers.get('x-event-position');
  if (method !== 'GET') lastPosition = positionAfter(lastPosition, position);
  const type = res.headers.get('content-type') ?? '';
  const isJson = /json/.test(type);
  if (!res.ok) {
    const problem: Problem = isJson
      ? ((await res.json()) as Problem)
      : { type: 'about:blank', title: res.statusText, status: res.status, detail: await res.text().catch(() => '') };
    if (res.status === 401 && token) onUnauthorized();
    throw new ApiError(res.status, problem);
  }
  const data = (res.status === 204 ? null : isJson ? await res.json() : await res.text()) as T;
  return { status: res.status, data, etag: parseEtag(res.headers.get('etag')), position, replayed: res.headers.get('idempotency-replayed') === 'true', headers: res.headers };
}

/** Fetches a file with the user's token (downloads cannot carry a bearer header otherwise). */
export async function download(path: string, query: Query, accept: string): Promise<{ blob: Blob; filename: string | null }> {
  const token = tokenSource();
  const res = await fetch(buildUrl(path, query), { headers: { accept, ...(token ? { authorization: `Bearer ${token}` } : {}) } });
  if (!res.ok) {
    const problem = /json/.test(res.headers.get('content-type') ?? '')
      ? ((await res.json()) as Problem)
      : { type: 'about:blank', title: res.statusText, status: res.status };
    if (res.status === 401 && token) onUnauthorized();
    throw new ApiError(res.status, problem);
  }
  const cd = res.headers.get('content-disposition') ?? '';
  const m = /filename\*=UTF-8''([^;]+)|filename="?([^";]+)"?/i.exec(cd);
  return { blob: await res.blob(), filename: m ? decodeURIComponent(m[1] ?? m[2]!) : null };
}

/** The API path of a municipality's resource. */
export const m = (code: string, rest: string): string => `/api/v1/municipalities/${code}${rest}`;
