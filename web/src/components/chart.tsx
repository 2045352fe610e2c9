import { useEffect, useRef } from 'react';
import type { EChartsCoreOption } from './echarts-setup';

/** Colours with at least 3:1 contrast against white (WCAG 1.4.11, graphical objects). */
export const PALETTE = ['#1f5f99', '#b3541e', '#2e7d32', '#6a3d9a', '#8a6d00', '#ad1457', '#00695c', '#5d4037'];

/**
 * An ECharts chart drawn on canvas. Screen readers get the summary in `label` (role="img");
 * the numbers themselves are always in a table next to the chart (every chart has one).
 * Tooltips render as rich text in the canvas: HTML tooltips would need inline styles that the
 * Content-Security-Policy forbids. ECharts is loaded on first use, so sign-in and registration
 * day do not wait for it.
 */
export function Chart({ option, label, height = 360, testId }: { option: EChartsCoreOption; label: string; height?: number; testId?: string }) {
  const ref = useRef<HTMLDivElement>(null);
  const json = JSON.stringify(option);
  useEffect(() => {
    const el = ref.current!;
    let disposed = false;
    let dispose = () => {};
    void import('./echarts-setup').then(({ init }) => {
      if (disposed) return;
      const chart = init(el, undefined, { renderer: 'canvas' });
      chart.setOption({ animation: false, color: PALETTE, textStyle: { color: '#1b1b1b', fontFamily: 'system-ui, sans-serif' }, tooltip: { renderMode: 'richText' }, ...option });
      el.dataset.rendered = 'true';
      const ro = new ResizeObserver(() => chart.resize());
      ro.observe(el);
      dispose = () => {
        ro.disconnect();
        chart.dispose();
      };
    });
    return () => {
      disposed = true;
      dispose();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [json]);
  return <div ref={ref} className="chart" role="img" aria-label={label} data-testid={testId} style={{ height }} />;
}
