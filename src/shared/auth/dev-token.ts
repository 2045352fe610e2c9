import { SignJWT } from 'jose';
import type { Role } from './principal.js';

/** Signs an HS256 token for development, demos and tests (never used in production). */
export async function signDevToken(
  secret: string,
  claims: { sub: string; name?: string; roles: Role[]; municipalities: string[] },
  opts: { expiresIn?: string | number; issuer?: string; audience?: string } = {},
): Promise<string> {
  let jwt = new SignJWT({ name: claims.name ?? claims.sub, roles: claims.roles, municipalities: claims.municipalities })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(opts.expiresIn ?? '12h');
  if (opts.issuer) jwt = jwt.setIssuer(opts.issuer);
  if (opts.audience) jwt = jwt.setAudience(opts.audience);
  return jwt.sign(new TextEncoder().encode(secret));
}
