export const ROLES = ['caseworker', 'process_owner', 'evaluator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** The authenticated caller, from the bearer token's claims. */
export interface Principal {
  userId: string;
  name: string;
  roles: Role[];
  municipalities: string[];
}

export function hasRole(p: Principal, ...roles: Role[]): boolean {
  return p.roles.some((r) => roles.includes(r));
}
