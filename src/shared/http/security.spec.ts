import { hostileUrl } from './security.js';

describe('hostileUrl', () => {
  it.each([
    ['/api/v1/units', undefined],
    ['/api/v1/municipalities/2281/cases?unit=vuxenstod&limit=10', undefined],
    ['/api/v1/municipalities/2281/admin/access-log?userId=prototype-admin', undefined],
    ['/api/v1/municipalities/2281/cases?q=a%20b&x=%E2%9C%93', undefined],
  ])('lets %s through', (url, expected) => {
    expect(hostileUrl(url)).toBe(expected);
  });

  it.each([
    ['/api/v1/units?a=%00', 'url'],
    ['/api/v1/units/%00', 'url'],
    ['/api/v1/units?userId=x%00y', 'url'],
    ['/api/v1/units?__proto__=1', '__proto__'],
    ['/api/v1/units?__proto__[admin]=1', '__proto__[admin]'],
    ['/api/v1/units?%5F%5Fproto%5F%5F=1', '__proto__'],
    ['/api/v1/units?constructor=1', 'constructor'],
    ['/api/v1/units?a=1&prototype=2', 'prototype'],
    ['/api/v1/units?%E0%A4%A=1', 'query'],
  ])('refuses %s (naming %s)', (url, path) => {
    expect(hostileUrl(url)?.path).toBe(path);
  });
});
