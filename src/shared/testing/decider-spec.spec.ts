import { AssertionError } from 'node:assert';
import type { Decider } from '../domain/decider.js';
import { DomainError } from '../domain/domain-error.js';
import { deciderSpec } from './decider-spec.js';

// A toy counter: the helper must fail loudly when the decider does something else than stated.
type Added = { type: 'Added'; by: number };
type Command = { type: 'Add'; by: number };
const counter: Decider<Command, Added, number> = {
  initialState: 0,
  decide: (c, total) => {
    if (c.by <= 0) throw DomainError.validation([{ path: 'by', message: 'must be positive' }]);
    if (total + c.by > 10) throw DomainError.conflict('too-much', 'over 10');
    if (c.by === 7) throw new Error('a bug');
    return [{ type: 'Added', by: c.by }];
  },
  evolve: (total, e) => total + e.by,
};
const spec = deciderSpec(counter);

describe('deciderSpec', () => {
  it('passes when the events match and fails when they do not', () => {
    spec.given([{ type: 'Added', by: 2 }]).when({ type: 'Add', by: 3 }).then([{ type: 'Added', by: 3 }]);
    expect(() => spec.given([]).when({ type: 'Add', by: 3 }).then([{ type: 'Added', by: 4 }])).toThrow(AssertionError);
    expect(() => spec.given([]).when({ type: 'Add', by: 3 }).then([])).toThrow(AssertionError);
  });

  it('folds the given events before deciding', () => {
    spec.given([{ type: 'Added', by: 9 }]).when({ type: 'Add', by: 2 }).thenThrows('conflict', 'too-much');
  });

  it('checks the kind and slug of a rejection and returns the error', () => {
    const error = spec.given([]).when({ type: 'Add', by: 0 }).thenThrows('validation');
    expect(error.errors).toEqual([{ path: 'by', message: 'must be positive' }]);
    expect(() => spec.given([]).when({ type: 'Add', by: 0 }).thenThrows('conflict')).toThrow(AssertionError);
    expect(() => spec.given([{ type: 'Added', by: 9 }]).when({ type: 'Add', by: 2 }).thenThrows('conflict', 'other-slug')).toThrow(AssertionError);
  });

  it('fails when a rejection was expected but events came out', () => {
    expect(() => spec.given([]).when({ type: 'Add', by: 1 }).thenThrows('conflict')).toThrow(AssertionError);
  });

  it('lets errors that are not domain errors through (bugs are not rejections)', () => {
    expect(() => spec.given([]).when({ type: 'Add', by: 7 }).thenThrows('conflict')).toThrow('a bug');
  });
});
