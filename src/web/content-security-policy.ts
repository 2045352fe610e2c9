/**
 * The Content-Security-Policy of the web interface's pages. The built app has no inline script
 * or style (Vite emits files; ECharts and React set styles through the CSSOM, which CSP does not
 * govern), so everything is 'self'. The OpenID Connect provider's origin is added to
 * connect-src because the browser fetches its discovery document and token endpoint itself.
 * Only the SPA's responses carry this policy: /api/docs (Swagger UI) needs inline code of its own.
 */
export function contentSecurityPolicy(opts: { oidcOrigins?: string[] } = {}): string {
  const connect = ["'self'", ...(opts.oidcOrigins ?? [])];
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    `connect-src ${connect.join(' ')}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The origin of an issuer URL, or nothing when the issuer is not an http(s) URL. */
export function originOf(url: string | undefined): string[] {
  if (!url) return [];
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? [u.origin] : [];
  } catch {
    return [];
  }
}
