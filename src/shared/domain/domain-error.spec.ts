import { DomainError, throwIfInvalid } from './domain-error.js';

describe('DomainError', () => {
  it('maps its kind to the HTTP status the API documents', () => {
    expect(DomainError.validation([{ path: 'x', message: 'bad' }]).httpStatus).toBe(400);
    expect(DomainError.conflict('case-closed', 'closed').httpStatus).toBe(409);
    expect(DomainError.notFound('case-not-found', 'none').httpStatus).toBe(404);
  });

  it('carries every field error, the slug and extension details', () => {
    const v = DomainError.validation([{ path: 'a', message: 'x' }, { path: 'b', message: 'y' }]);
    expect([v.kind, v.slug, v.errors.length, v.message]).toEqual(['validation', 'validation-error', 2, '2 field(s) failed validation']);
    const c = DomainError.conflict('person-has-open-case', 'open', { caseId: 'c0' });
    expect([c.kind, c.slug, c.details]).toEqual(['conflict', 'person-has-open-case', { caseId: 'c0' }]);
  });

  it('throwIfInvalid throws only when there are errors', () => {
    expect(() => throwIfInvalid([])).not.toThrow();
    expect(() => throwIfInvalid([{ path: 'a', message: 'x' }])).toThrow(DomainError);
  });
});
