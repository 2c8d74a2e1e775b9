/** A uPlot bar chart sized to its container and coloured from the theme's CSS variables. */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { fmtBucket, fmtTick, getDisplay, zoneLabel } from './format.js';
import { useApp } from './hooks.js';
import type { Period } from './types.js';

export interface BarChartProps {
  x: number[];
  y: number[];
  label: string;
  /** CSS variable holding the bar colour, e.g. `--accent`. */
  colorVar: string;
  format(v: number): string;
  /** Charts with the same key share the cursor. */
  syncKey: string;
  theme: string;
  height?: number;
  testid: string;
  /** The buckets: hours are drawn in the display zone, days, weeks and months as UTC days. */
  period: Period;
}

const cssVar = (name: string): string => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

export function BarChart(props: BarChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const { display } = useApp();
  const zone = props.period === 'hourly' ? getDisplay().timeZone : 'UTC';
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const grid = cssVar('--grid');
    const text = cssVar('--muted');
    const color = cssVar(props.colorVar);
    const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, font: '12px system-ui, sans-serif' };
    const opts: uPlot.Options = {
      // hours in the page's zone; days, weeks and months are UTC days
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), zone === 'UTC' ? 'Etc/UTC' : zone),
      width: Math.max(200, el.clientWidth),
      height: props.height ?? 220,
      cursor: { sync: { key: props.syncKey }, points: { show: false } },
      legend: { live: true },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: [
        // locale labels (`2:00 PM`) are wider than uPlot's own: keep ticks far enough apart
        { ...axis, space: 72, values: (_u, splits) => splits.map((v) => fmtTick(v, props.period)) },
        {
          ...axis, values: (_u, splits) => splits.map((v) => props.format(v)),
          // wide enough for the longest label in this locale (`0,0100 $`)
          size: (_u, values) => Math.max(48, 16 + 7.5 * Math.max(0, ...(values ?? []).map((v) => String(v).length))),
        },
      ],
      series: [
        { label: props.period === 'hourly' ? zoneLabel(zone) : 'UTC day', value: (_u, v) => (v === null ? '—' : fmtBucket(new Date(v * 1000).toISOString(), props.period)) },
        {
          label: props.label, stroke: color, fill: `${color}cc`, width: 0,
          paths: uPlot.paths.bars!({ size: [0.7, 42], gap: 1 }),
          points: { show: false },
          value: (_u, v) => (v === null ? '—' : props.format(v)),
        },
      ],
    };
    const plot = new uPlot(opts, [props.x, props.y], el);
    const ro = new ResizeObserver(() => plot.setSize({ width: Math.max(200, el.clientWidth), height: props.height ?? 220 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [props.x, props.y, props.theme, props.colorVar, props.label, props.period, display]);
  return (
    <div
      class="chart" ref={box} data-testid={props.testid} data-zone={zone}
      data-points={props.x.length} data-nonzero={props.y.filter((v) => v !== 0).length}
      role="img" aria-label={`${props.label}: ${props.y.filter((v) => v !== 0).length} of ${props.x.length} buckets have data`}
    />
  );
}
