import { matchPath } from './routing';

describe('matchPath', () => {
  it('matches fixed and parameter segments', () => {
    expect(matchPath('/arenden/:id', '/arenden/abc-123')).toEqual({ id: 'abc-123' });
    expect(matchPath('/arenden', '/arenden')).toEqual({});
    expect(matchPath('/arenden/:id', '/arenden')).toBeNull();
    expect(matchPath('/arenden', '/arenden/x')).toBeNull();
    expect(matchPath('/flode', '/statistik')).toBeNull();
  });

  it('takes optional trailing segments', () => {
    const p = '/registreringsdag/:roundId?/:caseId?';
    expect(matchPath(p, '/registreringsdag')).toEqual({});
    expect(matchPath(p, '/registreringsdag/r1')).toEqual({ roundId: 'r1' });
    expect(matchPath(p, '/registreringsdag/r1/c1')).toEqual({ roundId: 'r1', caseId: 'c1' });
    expect(matchPath(p, '/registreringsdag/r1/c1/x')).toBeNull();
  });

  it('decodes parameters and ignores a trailing slash', () => {
    expect(matchPath('/arenden/:id', '/arenden/%C3%A5%20b/')).toEqual({ id: 'å b' });
  });
});
