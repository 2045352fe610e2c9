/** `/arenden/:id` against `/arenden/42` → `{ id: '42' }`; trailing optional segments end in `?`. */
export function matchPath(pattern: string, pathname: string): Record<string, string> | null {
  const p = pattern.split('/').filter(Boolean);
  const s = pathname.split('/').filter(Boolean);
  if (s.length > p.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    const part = p[i]!;
    const optional = part.endsWith('?');
    const name = part.replace(/\?$/, '');
    const value = s[i];
    if (value === undefined) {
      if (optional) continue;
      return null;
    }
    if (name.startsWith(':')) params[name.slice(1)] = decodeURIComponent(value);
    else if (name !== value) return null;
  }
  return params;
}
