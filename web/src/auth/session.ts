import { decodeJwtClaims } from './pkce';

export type Role = 'caseworker' | 'process_owner' | 'evaluator' | 'admin';

export interface Session {
  token: string;
  sub: string;
  name: string;
  roles: Role[];
  municipalities: string[];
  /** Seconds since epoch. */
  expiresAt: number | null;
  via: 'demo' | 'oidc';
  /** OIDC only: for sign-out at the provider. */
  idToken?: string;
}

const KEY = 'vagen.session';
const MUNICIPALITY_KEY = 'vagen.municipality';

/**
 * The session lives in sessionStorage: it is gone when the tab closes, and it is not sent with
 * every request like a cookie would be (the API takes bearer tokens only).
 */
export function sessionFromToken(token: string, via: Session['via'], idToken?: string): Session {
  const c = decodeJwtClaims(token);
  const roles = Array.isArray(c.roles) ? (c.roles.filter((r) => ['caseworker', 'process_owner', 'evaluator', 'admin'].includes(String(r))) as Role[]) : [];
  const municipalities = Array.isArray(c.municipalities) ? c.municipalities.map(String).filter((m) => /^\d{4}$/.test(m)) : [];
  return {
    token,
    sub: String(c.sub ?? ''),
    name: typeof c.name === 'string' ? c.name : String(c.sub ?? ''),
    roles,
    municipalities,
    expiresAt: typeof c.exp === 'number' ? c.exp : null,
    via,
    idToken,
  };
}

export function loadSession(now = Date.now()): Session | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Session;
    if (s.expiresAt !== null && s.expiresAt * 1000 <= now) {
      sessionStorage.removeItem(KEY);
      return null;
    }
    return s;
  } catch {
    return null;
  }
}

export function saveSession(s: Session): void {
  sessionStorage.setItem(KEY, JSON.stringify(s));
}

export function clearSession(): void {
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(MUNICIPALITY_KEY);
}

export function loadMunicipality(s: Session): string | null {
  const m = sessionStorage.getItem(MUNICIPALITY_KEY);
  return m && s.municipalities.includes(m) ? m : (s.municipalities[0] ?? null);
}

export function saveMunicipality(code: string): void {
  sessionStorage.setItem(MUNICIPALITY_KEY, code);
}
