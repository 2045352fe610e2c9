/**
 * Why a command was rejected, in terms the HTTP layer can map without knowing the rule:
 * `validation` → 400 with every failing field, `conflict` → 409, `not_found` → 404.
 * The domain stays free of Nest; the problem filter (or a handler) turns a DomainError into a
 * problem+json answer with `type` = the slug, `detail` = the message, `errors` = the fields,
 * and any `details` as extension members (e.g. `{ caseId }` of an existing open case).
 */
export type DomainErrorKind = 'validation' | 'conflict' | 'not_found';

/** Same shape as the problem document's `errors[]` entries. */
export interface FieldError {
  /** Dotted path in the request body, e.g. `answers.mentalHealth`. */
  path: string;
  message: string;
}

const STATUS: Record<DomainErrorKind, number> = { validation: 400, conflict: 409, not_found: 404 };

export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    /** Stable, kebab-case reason such as `case-closed`; clients may branch on it. */
    readonly slug: string,
    message: string,
    readonly errors: FieldError[] = [],
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }

  get httpStatus(): number {
    return STATUS[this.kind];
  }

  static validation(errors: FieldError[]): DomainError {
    return new DomainError('validation', 'validation-error', `${errors.length} field(s) failed validation`, errors);
  }

  static conflict(slug: string, message: string, details: Record<string, unknown> = {}): DomainError {
    return new DomainError('conflict', slug, message, [], details);
  }

  static notFound(slug: string, message: string, details: Record<string, unknown> = {}): DomainError {
    return new DomainError('not_found', slug, message, [], details);
  }
}

/** Throws one validation error carrying all collected field errors, if there are any. */
export function throwIfInvalid(errors: FieldError[]): void {
  if (errors.length > 0) throw DomainError.validation(errors);
}
