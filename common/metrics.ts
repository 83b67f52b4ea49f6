/**
 * Counters, gauges and summaries in Prometheus text format. The gateway's connectors and delivery
 * loops and the server's plugins each register their own; each process serves its registry at /metrics.
 */
export type Labels = Record<string, string>;

function labelKey(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  return keys.map((k) => `${k}="${String(labels[k]).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',');
}

/** Prometheus text writes infinities as +Inf and -Inf. */
function sample(v: number): string {
  return v === Number.POSITIVE_INFINITY ? '+Inf' : v === Number.NEGATIVE_INFINITY ? '-Inf' : String(v);
}

abstract class Metric {
  protected readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' | 'summary',
  ) {}
  get(labels: Labels = {}): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`];
    if (this.values.size === 0) lines.push(`${this.name} 0`);
    for (const [k, v] of this.values) lines.push(k ? `${this.name}{${k}} ${sample(v)}` : `${this.name} ${sample(v)}`);
    return lines.join('\n');
  }
}

export class Counter extends Metric {
  constructor(name: string, help: string) {
    super(name, help, 'counter');
  }
  inc(labels: Labels = {}, by = 1): void {
    const k = labelKey(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
}

export class Gauge extends Metric {
  constructor(name: string, help: string) {
    super(name, help, 'gauge');
  }
  set(value: number, labels: Labels = {}): void {
    this.values.set(labelKey(labels), value);
  }
  /** Forgets every label set (for a gauge whose label values come and go, such as a top-10 list). */
  reset(): void {
    this.values.clear();
  }
}

/**
 * Durations and sizes: count, sum, and the 0.5/0.9/0.99 quantiles of the last 1,024 observations
 * (a sliding window, so the quantiles follow the current behaviour rather than all history).
 */
export class Summary extends Metric {
  private readonly window = new Float64Array(1024);
  private observed = 0;
  private sum = 0;
  constructor(name: string, help: string) {
    super(name, help, 'summary');
  }
  observe(value: number): void {
    this.window[this.observed % this.window.length] = value;
    this.observed++;
    this.sum += value;
  }
  get count(): number {
    return this.observed;
  }
  quantile(q: number): number {
    const n = Math.min(this.observed, this.window.length);
    if (n === 0) return Number.NaN;
    const sorted = Array.from(this.window.subarray(0, n)).sort((a, b) => a - b);
    return sorted[Math.min(n - 1, Math.floor(q * n))] as number;
  }
  override render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} summary`];
    for (const q of [0.5, 0.9, 0.99]) lines.push(`${this.name}{quantile="${q}"} ${this.observed ? this.quantile(q) : 'NaN'}`);
    lines.push(`${this.name}_sum ${this.sum}`, `${this.name}_count ${this.observed}`);
    return lines.join('\n');
  }
}

export class MetricsRegistry {
  private readonly metrics = new Map<string, Metric>();
  private readonly collectors: (() => void)[] = [];

  counter(name: string, help: string): Counter {
    return this.register(name, () => new Counter(name, help)) as Counter;
  }
  gauge(name: string, help: string): Gauge {
    return this.register(name, () => new Gauge(name, help)) as Gauge;
  }
  summary(name: string, help: string): Summary {
    return this.register(name, () => new Summary(name, help)) as Summary;
  }
  /** Runs before each render, to refresh gauges that are read rather than pushed. */
  onCollect(fn: () => void): void {
    this.collectors.push(fn);
  }
  find(name: string): Metric | undefined {
    return this.metrics.get(name);
  }
  render(): string {
    for (const c of this.collectors) c();
    return [...this.metrics.values()].map((m) => m.render()).join('\n') + '\n';
  }
  private register(name: string, make: () => Metric): Metric {
    let m = this.metrics.get(name);
    if (!m) {
      m = make();
      this.metrics.set(name, m);
    }
    return m;
  }
}
