import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import { ROLES, type Principal, type Role } from './principal.js';

export interface JwtSettings {
  jwtSecret?: string;
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
}

export class InvalidToken extends Error {}

/** Verified tokens remembered; a client sends the same token with every request. */
const CACHE_SIZE = 10_000;
/**
 * How long a verified token is taken on trust: never past its `exp`, and at most this long, which
 * bounds how long a key removed from the JWKS still lets its tokens in on this instance.
 */
const CACHE_TTL_MS = 60_000;

/**
 * Verifies bearer tokens: HS256 with the shared dev secret, RS256/ES256 against a JWKS
 * (production). The algorithm is chosen from what is configured, never trusted from the token
 * alone (an HS256 token is refused when only a JWKS is configured, and vice versa).
 */
export class JwtVerifier {
  private readonly secret?: Uint8Array;
  private readonly jwks?: ReturnType<typeof createRemoteJWKSet>;
  /** token → principal and until when it may be answered from here (LRU in insertion order). */
  private readonly verified = new Map<string, { principal: Principal; until: number }>();

  constructor(private readonly settings: JwtSettings) {
    if (settings.jwtSecret) this.secret = new TextEncoder().encode(settings.jwtSecret);
    if (settings.jwksUrl) this.jwks = createRemoteJWKSet(new URL(settings.jwksUrl), { cooldownDuration: 30_000 });
  }

  /**
   * The principal of a valid token. Signature checks are the main CPU cost of a request (an HMAC
   * or RSA verification through WebCrypto each time), so a token verified once is answered from
   * memory until its expiry, for at most CACHE_TTL_MS; the cache key is the whole token, so any
   * change to it is verified afresh.
   */
  async verify(token: string): Promise<Principal> {
    const hit = this.verified.get(token);
    if (hit) {
      if (Date.now() < hit.until) return copy(hit.principal);
      this.verified.delete(token);
    }
    const { principal, exp } = await this.verifyToken(token);
    const until = Math.min(Date.now() + CACHE_TTL_MS, exp === undefined ? Number.POSITIVE_INFINITY : exp * 1000);
    if (until > Date.now()) {
      this.verified.set(token, { principal, until });
      if (this.verified.size > CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!);
    }
    return copy(principal);
  }

  private async verifyToken(token: string): Promise<{ principal: Principal; exp: number | undefined }> {
    let payload: JWTPayload;
    try {
      const { alg } = decodeProtectedHeader(token);
      const common = {
        ...(this.settings.issuer ? { issuer: this.settings.issuer } : {}),
        ...(this.settings.audience ? { audience: this.settings.audience } : {}),
        clockTolerance: 5,
      };
      if (alg === 'HS256' && this.secret) {
        ({ payload } = await jwtVerify(token, this.secret, { ...common, algorithms: ['HS256'] }));
      } else if ((alg === 'RS256' || alg === 'ES256') && this.jwks) {
        ({ payload } = await jwtVerify(token, this.jwks, { ...common, algorithms: ['RS256', 'ES256'] }));
      } else {
        throw new InvalidToken('token algorithm not accepted');
      }
    } catch (e) {
      if (e instanceof InvalidToken) throw e;
      if (e instanceof errors.JWTExpired) throw new InvalidToken('token expired');
      throw new InvalidToken('token invalid');
    }
    return { principal: toPrincipal(payload), exp: payload.exp };
  }
}

/** Callers get their own arrays: a principal is per request. */
function copy(p: Principal): Principal {
  return { ...p, roles: [...p.roles], municipalities: [...p.municipalities] };
}

function toPrincipal(p: JWTPayload): Principal {
  const roles = Array.isArray(p.roles) ? p.roles.filter((r): r is Role => ROLES.includes(r as Role)) : [];
  const municipalities = Array.isArray(p.municipalities)
    ? p.municipalities.map(String).filter((m) => /^\d{4}$/.test(m))
    : [];
  if (typeof p.sub !== 'string' || p.sub.length === 0) throw new InvalidToken('token has no subject');
  return { userId: p.sub, name: typeof p.name === 'string' ? p.name : p.sub, roles, municipalities };
}
