import type { Role } from '../shared/auth/principal.js';
import { signDevToken } from '../shared/auth/dev-token.js';

export interface DemoUser {
  sub: string;
  name: string;
  role: Role;
  municipalities: string[];
}

/**
 * The people offered on the demo sign-in page: one of each role in Sundsvall, a caseworker in
 * Timrå (to show that tenants do not see each other), and an evaluator holding three
 * municipalities (exports may span several).
 */
export const DEMO_USERS: readonly DemoUser[] = [
  { sub: 'demo-caseworker-2281', name: 'Anna Lindqvist', role: 'caseworker', municipalities: ['2281'] },
  { sub: 'demo-process-owner-2281', name: 'Maria Sjöberg', role: 'process_owner', municipalities: ['2281'] },
  { sub: 'demo-evaluator', name: 'Johan Ek', role: 'evaluator', municipalities: ['2281', '2262', '2280'] },
  { sub: 'demo-admin-2281', name: 'Karin Holm', role: 'admin', municipalities: ['2281'] },
  { sub: 'demo-caseworker-2262', name: 'Erik Berg', role: 'caseworker', municipalities: ['2262'] },
];

/** Demo users are a development convenience: never in production, and only with the HS256 dev secret. */
export function demoUsersEnabled(config: { nodeEnv: string; auth: { jwtSecret?: string | undefined } }): boolean {
  return config.nodeEnv !== 'production' && !!config.auth.jwtSecret;
}

export async function demoUsersWithTokens(secret: string): Promise<(DemoUser & { token: string })[]> {
  return Promise.all(
    DEMO_USERS.map(async (u) => ({
      ...u,
      token: await signDevToken(secret, { sub: u.sub, name: u.name, roles: [u.role], municipalities: u.municipalities }, { expiresIn: '12h' }),
    })),
  );
}
