/**
 * Counter and histogram families whose series are plain objects: recording a request is a few
 * increments on a held reference (prom-client's own children hash their label set on every
 * inc/observe). Each series also keeps its exposition prefix — name and escaped labels — built
 * once, so a scrape is string concatenation, rendered in slices that yield to the event loop.
 *
 * Why not prom-client's Counter and Histogram: `npm run bench` renders the same 1,000 label sets
 * through them in the same run, and this renders 3.46x faster (2.80 ms against 9.68 ms,
 * `render_speedup_vs_prom_client`); on requests the middleware serves 1.03-1.12x the throughput
 * of express-prom-bundle (prom-client's types). prom-client still collects and renders the
 * process and Node.js metrics.
 */

export interface CounterSeries {
  value: number;
}

export interface HistogramSeries {
  /** Count per bucket (not cumulative); the last slot is +Inf. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/** Label values escaped as the exposition formats require: backslash, double quote, newline. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** HELP text escaped: backslash and newline; OpenMetrics escapes double quotes too. */
const escapeHelp = (help: string, openMetrics: boolean): string => {
  const text = help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return openMetrics ? text.replace(/"/g, '\\"') : text;
};

/** A number as OpenMetrics writes it canonically: integral values with `.0` (`1.0`, `10.0`). */
export function canonicalFloat(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return Number.isInteger(v) ? v.toFixed(1) : String(v);
}

/** A sample value as Prometheus writes it. */
function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

interface Entry<S> {
  /** `method="GET",endpoint="/api/items"`: escaped once. */
  readonly labelText: string;
  readonly series: S;
  /** Sample prefixes (`name{labels} `), built on first render in each format. */
  prefixes?: readonly string[];
  openMetricsPrefixes?: readonly string[];
}

export abstract class Family<S> {
  protected readonly entries = new Map<string, Entry<S>>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'histogram',
    readonly labelNames: readonly string[],
  ) {}

  protected abstract create(): S;

  /** The series of these label values (in labelNames order), created on first use. */
  child(...values: string[]): S {
    const key = values.join('\u0000');
    let entry = this.entries.get(key);
    if (entry === undefined) {
      const labelText = this.labelNames.map((n, i) => `${n}="${escapeLabelValue(values[i]!)}"`).join(',');
      entry = { labelText, series: this.create() };
      this.entries.set(key, entry);
    }
    return entry.series;
  }

  /** `# HELP` and `# TYPE` lines; OpenMetrics names counter families without `_total`. */
  header(openMetrics: boolean): string {
    const family = openMetrics && this.type === 'counter' ? this.name.replace(/_total$/, '') : this.name;
    return `# HELP ${family} ${escapeHelp(this.help, openMetrics)}\n# TYPE ${family} ${this.type}`;
  }

  /** Sample lines of every series, in slices of about `sliceSize` lines. */
  abstract slices(sliceSize: number, openMetrics: boolean): Generator<string[]>;
}

export class CounterFamily extends Family<CounterSeries> {
  constructor(name: string, help: string, labelNames: readonly string[]) {
    super(name, help, 'counter', labelNames);
  }

  protected create(): CounterSeries {
    return { value: 0 };
  }

  // A counter's lines are the same in both formats.
  *slices(sliceSize: number): Generator<string[]> {
    let lines: string[] = [];
    for (const entry of this.entries.values()) {
      entry.prefixes ??= [`${this.name}{${entry.labelText}} `];
      lines.push(entry.prefixes[0] + formatValue(entry.series.value));
      if (lines.length >= sliceSize) {
        yield lines;
        lines = [];
      }
    }
    yield lines;
  }
}

export class HistogramFamily extends Family<HistogramSeries> {
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    readonly buckets: readonly number[],
  ) {
    super(name, help, 'histogram', labelNames);
  }

  protected create(): HistogramSeries {
    return { counts: new Float64Array(this.buckets.length + 1), sum: 0, count: 0 };
  }

  observe(s: HistogramSeries, value: number): void {
    let i = 0;
    while (i < this.buckets.length && value > this.buckets[i]!) i++;
    s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  *slices(sliceSize: number, openMetrics = false): Generator<string[]> {
    let lines: string[] = [];
    const n = this.buckets.length;
    // The text format keeps `le` as the bounds print (`1`), which queries and recording rules
    // written for it match; OpenMetrics requires the canonical form (`1.0`).
    const les = [...this.buckets.map(openMetrics ? canonicalFloat : String), '+Inf'];
    for (const entry of this.entries.values()) {
      const { series, labelText } = entry;
      const build = () => [
        ...les.map((le) => `${this.name}_bucket{le="${le}",${labelText}} `),
        `${this.name}_sum{${labelText}} `,
        `${this.name}_count{${labelText}} `,
      ];
      const p = openMetrics ? (entry.openMetricsPrefixes ??= build()) : (entry.prefixes ??= build());
      let cumulative = 0;
      for (let i = 0; i <= n; i++) {
        cumulative += series.counts[i]!;
        lines.push(p[i]! + formatValue(cumulative));
      }
      lines.push(p[n + 1]! + formatValue(series.sum), p[n + 2]! + formatValue(series.count));
      if (lines.length >= sliceSize) {
        yield lines;
        lines = [];
      }
    }
    yield lines;
  }
}
