import { jest } from '@jest/globals';
import { signDevToken } from './dev-token.js';
import { InvalidToken, JwtVerifier } from './jwt.verifier.js';

const SECRET = 'spec-secret-spec-secret-spec-secret-0123';

describe('JwtVerifier: verified tokens answered from memory', () => {
  afterEach(() => jest.useRealTimers());

  it('still refuses a token once it has expired (beyond the 5 s clock tolerance), even after it was verified', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'setTimeout', 'setInterval'] });
    const t0 = new Date('2026-06-01T10:00:00Z');
    jest.setSystemTime(t0);
    const verifier = new JwtVerifier({ jwtSecret: SECRET });
    const token = await signDevToken(SECRET, { sub: 'anna', roles: ['caseworker'], municipalities: ['2281'] }, { expiresIn: '30s' });
    expect((await verifier.verify(token)).userId).toBe('anna');
    jest.setSystemTime(t0.getTime() + 20_000);
    expect((await verifier.verify(token)).userId).toBe('anna');
    // past exp but within the tolerance jose allows: accepted, as without the cache
    jest.setSystemTime(t0.getTime() + 32_000);
    expect((await verifier.verify(token)).userId).toBe('anna');
    jest.setSystemTime(t0.getTime() + 36_000);
    await expect(verifier.verify(token)).rejects.toThrow(new InvalidToken('token expired'));
  });

  it('refuses a token whose signature was changed after the original was verified', async () => {
    const verifier = new JwtVerifier({ jwtSecret: SECRET });
    const token = await signDevToken(SECRET, { sub: 'anna', roles: ['caseworker'], municipalities: ['2281'] });
    await verifier.verify(token);
    const [h, p, sig] = token.split('.') as [string, string, string];
    const forged = `${h}.${p}.${sig.slice(0, -2)}${sig.endsWith('AA') ? 'BB' : 'AA'}`;
    await expect(verifier.verify(forged)).rejects.toThrow(InvalidToken);
    const other = await signDevToken('another-secret-another-secret-0123456789', { sub: 'anna', roles: ['admin'], municipalities: ['2281'] });
    await expect(verifier.verify(other)).rejects.toThrow(InvalidToken);
  });

  it('gives every caller its own principal', async () => {
    const verifier = new JwtVerifier({ jwtSecret: SECRET });
    const token = await signDevToken(SECRET, { sub: 'anna', roles: ['caseworker'], municipalities: ['2281'] });
    const first = await verifier.verify(token);
    first.roles.push('admin');
    first.municipalities.push('2262');
    expect(await verifier.verify(token)).toEqual({ userId: 'anna', name: 'anna', roles: ['caseworker'], municipalities: ['2281'] });
  });
});
