/**
 * The four units that jointly own "Vägen till hållbar egen försörjning" (DOMAIN.md). A case
 * belongs to exactly one of them while it is open. The codes are stable API values.
 */
export const UNITS = [
  { code: 'forsorjningsstod', name: 'Försörjningsstöd' },
  { code: 'vuxenstod', name: 'Vuxenstöd' },
  { code: 'arbete-och-integration', name: 'Arbete och Integration' },
  { code: 'rehabilitering-och-utveckling', name: 'Rehabilitering och Utveckling' },
] as const;

export type UnitCode = (typeof UNITS)[number]['code'];

export const UNIT_CODES: readonly UnitCode[] = UNITS.map((u) => u.code);

export function isUnitCode(value: unknown): value is UnitCode {
  return typeof value === 'string' && (UNIT_CODES as readonly string[]).includes(value);
}
