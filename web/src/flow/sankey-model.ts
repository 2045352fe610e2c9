import { CLOSURE_LABELS, UNIT_LABELS } from '../i18n/sv';

/** GET /flows answer (API.md): sources are units and `new`; targets are units and `closed:<reason>`. */
export interface FlowLink {
  source: string;
  target: string;
  count: number | null;
  suppressed?: boolean;
}
export interface FlowResponse {
  links: FlowLink[];
  totals?: { from: Count; new: Count; to: Count; left: Count };
}
export interface Count {
  count: number | null;
  suppressed?: boolean;
}

export function flowNodeLabel(code: string): string {
  if (code === 'new') return 'Nya ärenden';
  if (code === 'missing') return 'Saknas i den senare omgången';
  if (code.startsWith('closed:')) return `Avslutat: ${CLOSURE_LABELS[code.slice('closed:'.length)] ?? code.slice(7)}`;
  return UNIT_LABELS[code] ?? code;
}

export interface SankeyModel {
  /** ECharts Sankey input: the two sides get distinct node names, since a Sankey cannot have cycles. */
  nodes: { name: string }[];
  links: { source: string; target: string; value: number }[];
  rows: { source: string; target: string; sourceLabel: string; targetLabel: string; count: number | null; suppressed: boolean }[];
  bySource: { code: string; label: string; total: number; hasSuppressed: boolean }[];
  byTarget: { code: string; label: string; total: number; hasSuppressed: boolean }[];
  /** Sum of the shown counts (suppressed cells count as unknown, never guessed). */
  total: number;
  hasSuppressed: boolean;
}

const side = (prefix: 'Från' | 'Till', code: string) => (code === 'new' || code.startsWith('closed:') ? flowNodeLabel(code) : `${prefix}: ${flowNodeLabel(code)}`);

/** Order of nodes: units in the API's order, then new cases / closures. */
function order(code: string): number {
  const units = Object.keys(UNIT_LABELS);
  const i = units.indexOf(code);
  if (i >= 0) return i;
  if (code === 'new') return 10;
  if (code === 'missing') return 40;
  return 20 + Object.keys(CLOSURE_LABELS).indexOf(code.slice('closed:'.length));
}

export function sankeyModel(flow: FlowResponse): SankeyModel {
  const links = [...flow.links].sort((a, b) => order(a.source) - order(b.source) || order(a.target) - order(b.target));
  const rows = links.map((l) => ({
    source: l.source,
    target: l.target,
    sourceLabel: flowNodeLabel(l.source),
    targetLabel: flowNodeLabel(l.target),
    count: l.suppressed || l.count === null ? null : l.count,
    suppressed: !!l.suppressed || l.count === null,
  }));
  const group = (key: 'source' | 'target') => {
    const map = new Map<string, { code: string; label: string; total: number; hasSuppressed: boolean }>();
    for (const r of rows) {
      const code = r[key];
      const g = map.get(code) ?? { code, label: flowNodeLabel(code), total: 0, hasSuppressed: false };
      if (r.count === null) g.hasSuppressed = true;
      else g.total += r.count;
      map.set(code, g);
    }
    return [...map.values()].sort((a, b) => order(a.code) - order(b.code));
  };
  const shown = rows.filter((r) => r.count !== null && r.count > 0);
  const names = new Set<string>();
  for (const r of shown) {
    names.add(side('Från', r.source));
    names.add(side('Till', r.target));
  }
  return {
    nodes: [...names].map((name) => ({ name })),
    links: shown.map((r) => ({ source: side('Från', r.source), target: side('Till', r.target), value: r.count! })),
    rows,
    bySource: group('source'),
    byTarget: group('target'),
    total: shown.reduce((s, r) => s + r.count!, 0),
    hasSuppressed: rows.some((r) => r.suppressed),
  };
}
