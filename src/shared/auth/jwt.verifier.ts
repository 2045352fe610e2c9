import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import { ROLES, type Principal, type Role } from './principal.js';

export interface JwtSettings {
  jwtSecret?: string;
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
}

export class InvalidToken extends Error {}

/**
 * Verifies bearer tokens: HS256 with the shared dev secret, RS256/ES256 against a JWKS
 * (production). The algorithm is chosen from what is configured, never trusted from the token
 * alone (an HS256 token is refused when only a JWKS is configured, and vice versa).
 */
export class JwtVerifier {
  private readonly secret?: Uint8Array;
  private readonly jwks?: ReturnType<typeof createRemoteJWKSet>;

  constructor(private readonly settings: JwtSettings) {
    if (settings.jwtSecret) this.secret = new TextEncoder().encode(settings.jwtSecret);
    if (settings.jwksUrl) this.jwks = createRemoteJWKSet(new URL(settings.jwksUrl), { cooldownDuration: 30_000 });
  }

  async verify(token: string): Promise<Principal> {
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
    return toPrincipal(payload);
  }
}

function toPrincipal(p: JWTPayload): Principal {
  const roles = Array.isArray(p.roles) ? p.roles.filter((r): r is Role => ROLES.includes(r as Role)) : [];
  const municipalities = Array.isArray(p.municipalities)
    ? p.municipalities.map(String).filter((m) => /^\d{4}$/.test(m))
    : [];
  if (typeof p.sub !== 'string' || p.sub.length === 0) throw new InvalidToken('token has no subject');
  return { userId: p.sub, name: typeof p.name === 'string' ? p.name : p.sub, roles, municipalities };
}
