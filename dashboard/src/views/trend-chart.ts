import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { content, el, replaceChildren } from '../dom.ts';
import { trace } from '../live/trace.ts';
import { formatTime } from './format.ts';
import type { AppContext } from './view.ts';

/** Ranges of the trend, each with the window it asks the history API for (at most a few hundred points). */
export const RANGES = [
  { key: '1h', ms: 3_600_000, every: '30s' },
  { key: '6h', ms: 6 * 3_600_000, every: '2m' },
  { key: '24h', ms: 24 * 3_600_000, every: '5m' },
  { key: '7d', ms: 7 * 86_400_000, every: '1h' },
  { key: '30d', ms: 30 * 86_400_000, every: '4h' },
] as const;
export type RangeKey = (typeof RANGES)[number]['key'];

interface Series {
  points: { metric: string; ts: number; value: number | null }[];
}

export interface TrendTarget {
  device: string;
  name: string;
  metric: string;
  engUnit?: string;
}

/**
 * A trend of one metric of one device over the reading history (GET /api/devices/{id}/readings,
 * aggregated with `every`), drawn on a canvas by uPlot.
 */
export class TrendChart {
  readonly root = el('div', { class: 'trend' });
  private plot: uPlot | undefined;
  private target: TrendTarget | undefined;
  private range: RangeKey = '1h';
  private readonly title = el('div', { class: 'trend-title' });
  private readonly ranges = el('div', { class: 'trend-ranges' });
  private readonly canvas = el('div', { class: 'trend-canvas' });
  private readonly note = el('div', { class: 'trend-note' });
  private request = 0;
  private readonly resize = new ResizeObserver(() => this.plot?.setSize(this.size()));

  constructor(private readonly ctx: AppContext) {
    const { i18n } = ctx;
    this.root.append(el('div', { class: 'trend-head' }, el('h2', {}, i18n.t('building.trend')), this.title, this.ranges), this.canvas, this.note);
    for (const r of RANGES) {
      this.ranges.append(el('button', { 'data-range': r.key, onclick: () => this.show(this.target, r.key) }, i18n.t(`building.range.${r.key}`)));
    }
    this.note.textContent = i18n.t('building.chooseDevice');
    this.resize.observe(this.canvas);
  }

  async show(target: TrendTarget | undefined, range: RangeKey = this.range): Promise<void> {
    if (!target) return;
    const { i18n, api, store } = this.ctx;
    this.target = target;
    this.range = range;
    for (const b of this.ranges.querySelectorAll('button')) b.classList.toggle('active', b.dataset.range === range);
    replaceChildren(this.title, content(target.name), ' · ', i18n.label('metric', target.metric));
    const spec = RANGES.find((r) => r.key === range)!;
    const to = Math.ceil(store.serverNow() / 1000) * 1000;
    const from = to - spec.ms;
    const id = ++this.request;
    this.note.textContent = i18n.t('building.loading');
    this.root.dataset.state = 'loading';
    let series: Series;
    try {
      const q = new URLSearchParams({ metric: target.metric, from: String(from), to: String(to), every: spec.every });
      series = await api.get<Series>(`/api/devices/${encodeURIComponent(target.device)}/readings?${q}`);
    } catch (err) {
      if (id !== this.request) return;
      replaceChildren(this.note, i18n.t('building.historyFailed'), ' ', content((err as Error).message));
      this.root.dataset.state = 'failed';
      return;
    }
    if (id !== this.request) return;
    const xs: number[] = [];
    const ys: (number | null)[] = [];
    for (const p of series.points) {
      if (p.metric !== target.metric) continue;
      xs.push(p.ts / 1000);
      ys.push(p.value);
    }
    this.note.textContent = xs.length === 0 ? i18n.t('building.noHistory') : '';
    this.draw([xs, ys], target, from / 1000, to / 1000);
    this.root.dataset.state = 'drawn';
    this.root.dataset.points = String(xs.length);
    this.root.dataset.frame = String(trace.frame);
  }

  destroy(): void {
    this.resize.disconnect();
    this.plot?.destroy();
  }

  private size(): { width: number; height: number } {
    return { width: Math.max(300, this.canvas.clientWidth), height: 260 };
  }

  private draw(data: [number[], (number | null)[]], target: TrendTarget, from: number, to: number): void {
    this.plot?.destroy();
    const unit = target.engUnit ? ` (${target.engUnit})` : '';
    const tz = this.ctx.site.timezone;
    const { i18n } = this.ctx;
    // Axis times in the estate's zone, 24-hour, with the date once the range spans days.
    const axisTime = (ms: number, spanS: number): string => (spanS > 86_400 ? formatTime(i18n, tz, ms) : formatTime(i18n, tz, ms, false).slice(0, 5));
    const opts: uPlot.Options = {
      ...this.size(),
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), tz),
      scales: { x: { time: true, min: from, max: to } },
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      axes: [
        { stroke: '#c9d1d9', grid: { stroke: '#30363d' }, ticks: { stroke: '#30363d' }, values: (_u, splits) => splits.map((s) => axisTime(s * 1000, to - from)) },
        { stroke: '#c9d1d9', grid: { stroke: '#30363d' }, ticks: { stroke: '#30363d' }, size: 70 },
      ],
      series: [{}, { label: `${this.ctx.i18n.label('metric', target.metric)}${unit}`, stroke: '#58a6ff', width: 2, fill: 'rgba(88,166,255,0.12)', spanGaps: false }],
    };
    this.plot = new uPlot(opts, data, this.canvas);
  }
}
