import { createContext, useContext } from 'react';
import type { Role, Session } from './auth/session';

export interface AppState {
  session: Session | null;
  /** The municipality the user works in now (one of the token's). */
  code: string | null;
  signIn(s: Session, to?: string): void;
  signOut(): void;
  setCode(code: string): void;
}

export const AppContext = createContext<AppState | null>(null);

export function useApp(): AppState {
  const s = useContext(AppContext);
  if (!s) throw new Error('AppContext missing');
  return s;
}

/** For pages that are only shown to a signed-in user. */
export function useSignedIn(): { session: Session; code: string } {
  const { session, code } = useApp();
  if (!session || !code) throw new Error('not signed in');
  return { session, code };
}

export const hasRole = (s: Session | null, ...roles: Role[]): boolean => !!s && s.roles.some((r) => roles.includes(r));

export function homePath(s: Session): string {
  if (hasRole(s, 'caseworker')) return '/registreringsdag';
  if (hasRole(s, 'process_owner')) return '/flode';
  if (hasRole(s, 'evaluator')) return '/export';
  return '/omgangar';
}
