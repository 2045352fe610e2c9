import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import type { Principal, Role } from './principal.js';

export const PUBLIC_KEY = 'vagen:public';
export const ROLES_KEY = 'vagen:roles';

/** No token needed (health, docs, reference data). */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

/** The roles allowed on a route (any of them). A route without @Roles accepts any authenticated user. */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);

/** The authenticated caller, set by the AuthGuard. */
export const CurrentUser = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  return ctx.switchToHttp().getRequest<{ principal: Principal }>().principal;
});
