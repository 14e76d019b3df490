/**
 * The cost of a scrape: render time and size of /metrics at a given number of label sets (each
 * a counter and a histogram series, as a real request mix makes), and the longest event-loop
 * block while scrapes run back to back.
 */
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { DURATION_BUCKETS, METRIC, METRIC_LABELS } from '../../src/contract';
import { HttpMetrics } from '../../src/metrics/registry';

export interface ScrapeCost {
  labelSets: number;
  samples: number;
  bytes: number;
  renderMsMedian: number;
  renderMsMax: number;
}

type Observe = (method: string, endpoint: string, status: number, seconds: number) => void;

/** Calls `observe` with `labelSets` distinct (method, endpoint, status) label sets. */
function eachLabelSet(labelSets: number, observe: Observe): void {
  const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
  const statuses = [200, 201, 204, 400, 404, 409, 422, 500, 503];
  for (let i = 0; i < labelSets; i++) {
    const method = methods[i % methods.length]!;
    const status = statuses[Math.floor(i / methods.length) % statuses.length]!;
    const endpoint = `/api/resource${Math.floor(i / (methods.length * statuses.length))}/:id`;
    observe(method, endpoint, status, (i % 100) / 200);
  }
}

/** Adds `labelSets` distinct (method, endpoint, status) label sets to `metrics`. */
export function populate(metrics: HttpMetrics, labelSets: number): HttpMetrics {
  eachLabelSet(labelSets, (m, e, s, d) => metrics.observe(m, e, s, d));
  return metrics;
}

/**
 * The baseline: the same four families as prom-client's own Counter and Histogram, with its
 * process metrics, rendered by its formatter.
 */
function promClientRegistry(labelSets: number): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const counter = (name: (typeof METRIC)['requestsTotal' | 'requests4xx' | 'requests5xx']) =>
    new Counter({ name, help: name, labelNames: METRIC_LABELS[name], registers: [registry] });
  const total = counter(METRIC.requestsTotal);
  const errors4xx = counter(METRIC.requests4xx);
  const errors5xx = counter(METRIC.requests5xx);
  const duration = new Histogram({
    name: METRIC.requestDuration,
    help: METRIC.requestDuration,
    labelNames: METRIC_LABELS[METRIC.requestDuration],
    buckets: [...DURATION_BUCKETS],
    registers: [registry],
  });
  eachLabelSet(labelSets, (method, endpoint, status, seconds) => {
    total.inc({ method, endpoint, status });
    duration.observe({ method, endpoint }, seconds);
    if (status >= 500) errors5xx.inc({ method, endpoint });
    else if (status >= 400) errors4xx.inc({ method, endpoint });
  });
  return registry;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timeRenders(renders: number, render: () => Promise<string>): Promise<{ times: number[]; body: string }> {
  const times: number[] = [];
  let body = '';
  for (let i = 0; i < renders; i++) {
    const t0 = performance.now();
    body = await render();
    times.push(performance.now() - t0);
  }
  return { times, body };
}

export async function scrapeCost(labelSets: number, renders: number): Promise<ScrapeCost> {
  const metrics = populate(new HttpMetrics({ version: 'bench' }), labelSets);
  const { times, body } = await timeRenders(renders, async () => (await metrics.render(undefined)).body);
  return {
    labelSets,
    samples: body.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length,
    bytes: Buffer.byteLength(body),
    renderMsMedian: median(times),
    renderMsMax: Math.max(...times),
  };
}

/** Median render time of the same label sets through prom-client's own metric types, in ms. */
export async function promClientRenderMs(labelSets: number, renders: number): Promise<number> {
  const registry = promClientRegistry(labelSets);
  return median((await timeRenders(renders, () => registry.metrics())).times);
}
