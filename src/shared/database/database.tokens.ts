/** DI token for the `pg` Pool shared with TypeORM (see database.ts). */
export const PG_POOL = Symbol('PG_POOL');
/** DI token for the validated, resolved configuration. */
export const APP_CONFIG = Symbol('APP_CONFIG');
