import { WrongExpectedVersion } from '../event-store/event-store.port.js';
import { toProblem } from './problem.filter.js';

describe('toProblem: concurrency failures are answers a client can act on, not 500s', () => {
  it('a command that kept losing the race for its stream answers 409 concurrent-modification with Retry-After', () => {
    const { body, headers } = toProblem(new WrongExpectedVersion('case-2281-x', 3, 5), '/api/v1/municipalities/2281/cases/x/transfers');
    expect(body).toMatchObject({ status: 409, type: expect.stringMatching(/concurrent-modification$/), instance: '/api/v1/municipalities/2281/cases/x/transfers' });
    expect(headers).toEqual({ 'retry-after': '1' });
  });

  it.each(['40P01', '40001'])('PostgreSQL %s (deadlock / serialisation failure) answers 503 transient-conflict with Retry-After', (code) => {
    const { body, headers } = toProblem(Object.assign(new Error('deadlock detected'), { code }), '/x');
    expect(body).toMatchObject({ status: 503, type: expect.stringMatching(/transient-conflict$/) });
    expect(body.detail).not.toMatch(/deadlock/);
    expect(headers).toEqual({ 'retry-after': '1' });
  });

  it('any other error stays a bare 500', () => {
    expect(toProblem(Object.assign(new Error('boom'), { code: '23505' }), '/x').body).toMatchObject({ status: 500 });
  });
});
