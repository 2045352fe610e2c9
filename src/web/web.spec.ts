import { contentSecurityPolicy, originOf } from './content-security-policy.js';
import { demoUsersEnabled, DEMO_USERS } from './demo-users.js';

describe('web interface settings', () => {
  it('offers demo users only outside production and only with the HS256 dev secret', () => {
    expect(demoUsersEnabled({ nodeEnv: 'development', auth: { jwtSecret: 's' } })).toBe(true);
    expect(demoUsersEnabled({ nodeEnv: 'test', auth: { jwtSecret: 's' } })).toBe(true);
    expect(demoUsersEnabled({ nodeEnv: 'production', auth: { jwtSecret: 's' } })).toBe(false);
    expect(demoUsersEnabled({ nodeEnv: 'development', auth: { jwtSecret: undefined } })).toBe(false);
  });

  it('has a demo user of every role, each with municipalities', () => {
    expect(new Set(DEMO_USERS.map((u) => u.role))).toEqual(new Set(['caseworker', 'process_owner', 'evaluator', 'admin']));
    expect(new Set(DEMO_USERS.map((u) => u.sub)).size).toBe(DEMO_USERS.length);
    for (const u of DEMO_USERS) expect(u.municipalities.every((m) => /^\d{4}$/.test(m))).toBe(true);
  });

  it('allows no inline code, and only the identity provider besides the service for fetches', () => {
    const csp = contentSecurityPolicy({ oidcOrigins: originOf('https://idp.example.org/realms/vagen/') });
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("style-src 'self';");
    expect(csp).toContain("connect-src 'self' https://idp.example.org;");
    expect(csp).not.toMatch(/unsafe/);
    expect(originOf('not a url')).toEqual([]);
    expect(originOf('ftp://x.example')).toEqual([]);
    expect(originOf(undefined)).toEqual([]);
  });
});
