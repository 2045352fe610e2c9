/**
 * Pearson's chi-square test of independence for an r×c contingency table, with Cramér's V.
 * Used by the assessment-consistency report: does the distribution of priorities (or of an
 * answer) depend on which caseworker assessed? Rows or columns that are all zero are dropped
 * first (they carry no information and would make expected counts zero).
 */
export interface ChiSquareResult {
  statistic: number;
  degreesOfFreedom: number;
  pValue: number;
  cramersV: number;
  n: number;
}

export function chiSquareIndependence(table: number[][]): ChiSquareResult {
  const rows = table.filter((r) => r.reduce((a, b) => a + b, 0) > 0);
  const colCount = rows[0]?.length ?? 0;
  const keepCols = [...Array(colCount).keys()].filter((j) => rows.some((r) => (r[j] ?? 0) > 0));
  const t = rows.map((r) => keepCols.map((j) => r[j] ?? 0));
  const n = t.flat().reduce((a, b) => a + b, 0);
  const r = t.length;
  const c = keepCols.length;
  if (n === 0 || r < 2 || c < 2) return { statistic: 0, degreesOfFreedom: 0, pValue: 1, cramersV: 0, n };
  const rowSums = t.map((row) => row.reduce((a, b) => a + b, 0));
  const colSums = keepCols.map((_, j) => t.reduce((a, row) => a + row[j]!, 0));
  let statistic = 0;
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < c; j++) {
      const expected = (rowSums[i]! * colSums[j]!) / n;
      statistic += (t[i]![j]! - expected) ** 2 / expected;
    }
  }
  const degreesOfFreedom = (r - 1) * (c - 1);
  return {
    statistic,
    degreesOfFreedom,
    pValue: chiSquareSurvival(statistic, degreesOfFreedom),
    cramersV: Math.sqrt(statistic / (n * (Math.min(r, c) - 1))),
    n,
  };
}

/** P(X ≥ x) for X ~ χ²(k): the regularised upper incomplete gamma Q(k/2, x/2). */
export function chiSquareSurvival(x: number, k: number): number {
  if (x <= 0) return 1;
  return upperRegularizedGamma(k / 2, x / 2);
}

// Numerical Recipes (gser / gcf): series for x < a+1, continued fraction otherwise.
function upperRegularizedGamma(a: number, x: number): number {
  if (x < a + 1) return 1 - lowerSeries(a, x);
  return upperContinuedFraction(a, x);
}

function lowerSeries(a: number, x: number): number {
  let sum = 1 / a;
  let term = sum;
  for (let n = 1; n < 1000; n++) {
    term *= x / (a + n);
    sum += term;
    if (Math.abs(term) < Math.abs(sum) * 1e-15) break;
  }
  return sum * Math.exp(-x + a * Math.log(x) - logGamma(a));
}

function upperContinuedFraction(a: number, x: number): number {
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return Math.exp(-x + a * Math.log(x) - logGamma(a)) * h;
}

/** Lanczos approximation (g=7, n=9), accurate to ~15 digits for a > 0. */
export function logGamma(z: number): number {
  const g = 7;
  const coef = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (z < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * z)) - logGamma(1 - z);
  z -= 1;
  let x = coef[0]!;
  for (let i = 1; i < g + 2; i++) x += coef[i]! / (z + i);
  const t = z + g + 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(x);
}
