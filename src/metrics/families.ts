/**
 * Counter and histogram families whose series are plain objects: recording a request is a few
 * increments on a held reference. prom-client's own children hash their label set on every
 * inc/observe, which costs more than the rest of the request path together; these families
 * hand prom-client's Registry the same metric shape at scrape time instead, so its exposition
 * (text format and OpenMetrics) is unchanged.
 */

/** One sample as prom-client's Registry formats it. */
export interface ExposedValue {
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
  readonly metricName?: string;
}

/** A metric family as prom-client's Registry reads it from `get()`. */
export interface ExposedMetric {
  readonly name: string;
  readonly help: string;
  readonly type: string;
  readonly aggregator: 'sum';
  readonly values: readonly ExposedValue[];
}

export interface CounterSeries {
  value: number;
}

export interface HistogramSeries {
  /** Count per bucket (not cumulative); the last slot is +Inf. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

interface Entry<S> {
  readonly labels: Record<string, string>;
  readonly series: S;
  /** Label sets of the bucket samples (`le` first), built once for the exposition. */
  bucketLabels?: readonly Record<string, string | number>[];
}

/** What prom-client's Registry reads from a metric. */
export interface RegistryMetric {
  name: string;
  readonly help: string;
  readonly type: string;
  get(): Promise<ExposedMetric>;
  reset(): void;
}

abstract class Family<S> {
  protected readonly series = new Map<string, Entry<S>>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}

  protected abstract create(): S;

  /** The series of these label values (in labelNames order), created on first use. */
  child(...values: string[]): S {
    const key = values.join('\u0000');
    let entry = this.series.get(key);
    if (entry === undefined) {
      const labels = Object.fromEntries(this.labelNames.map((n, i) => [n, values[i]!]));
      entry = { labels, series: this.create() };
      this.series.set(key, entry);
    }
    return entry.series;
  }

  reset(): void {
    this.series.clear();
  }
}

export class CounterFamily extends Family<CounterSeries> implements RegistryMetric {
  readonly type = 'counter';

  protected create(): CounterSeries {
    return { value: 0 };
  }

  async get(): Promise<ExposedMetric> {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: 'sum',
      values: [...this.series.values()].map(({ labels, series }) => ({ labels, value: series.value })),
    };
  }
}

export class HistogramFamily extends Family<HistogramSeries> implements RegistryMetric {
  readonly type = 'histogram';

  constructor(name: string, help: string, labelNames: readonly string[], readonly buckets: readonly number[]) {
    super(name, help, labelNames);
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

  async get(): Promise<ExposedMetric> {
    const values: ExposedValue[] = [];
    const [bucket, sum, count] = [`${this.name}_bucket`, `${this.name}_sum`, `${this.name}_count`];
    for (const entry of this.series.values()) {
      const { labels, series } = entry;
      entry.bucketLabels ??= [...this.buckets, '+Inf'].map((le) => ({ le, ...labels }));
      let cumulative = 0;
      for (let i = 0; i < entry.bucketLabels.length; i++) {
        cumulative += series.counts[i]!;
        values.push({ labels: entry.bucketLabels[i]!, value: cumulative, metricName: bucket });
      }
      values.push({ labels, value: series.sum, metricName: sum });
      values.push({ labels, value: series.count, metricName: count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: 'sum', values };
  }
}

/**
 * A view of `metric` under another name. prom-client's Registry renames counters in place
 * (dropping `_total`) when it renders OpenMetrics, so one metric object must never be shared by
 * a text-format and an OpenMetrics registry: each registry gets its own view.
 */
export function view(metric: RegistryMetric, name = metric.name): RegistryMetric {
  return {
    name,
    help: metric.help,
    type: metric.type,
    // The Registry formats with the name get() reports, so the view reports its own.
    get: async () => ({ ...(await metric.get()), name }),
    reset: () => metric.reset(),
  };
}
