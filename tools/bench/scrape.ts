/**
 * The cost of a scrape: render time (to the bytes sent) and size of /metrics at a given number of
 * label sets (each a counter and a histogram series, as a real request mix makes), with a scrape
 * interval's requests recorded before each render, and the longest event-loop block while
 * scrapes run back to back.
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
function promClientRegistry(labelSets: number): { registry: Registry; observe: Observe } {
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
  const observe: Observe = (method, endpoint, status, seconds) => {
    total.inc({ method, endpoint, status });
    duration.observe({ method, endpoint }, seconds);
    if (status >= 500) errors5xx.inc({ method, endpoint });
    else if (status >= 400) errors4xx.inc({ method, endpoint });
  };
  eachLabelSet(labelSets, observe);
  return { registry, observe };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Requests recorded between two scrapes: 10 s at 50 requests per second. */
export const REQUESTS_BETWEEN_SCRAPES = 500;

/**
 * Records REQUESTS_BETWEEN_SCRAPES requests, each on one of the first `labelSets` label sets drawn
 * at random (uniformly: more series change than under a real, skewed mix), so each timed render
 * re-renders what a scrape after real traffic would.
 */
function trafficBetweenScrapes(labelSets: number, observe: Observe, random: () => number): void {
  const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
  const statuses = [200, 201, 204, 400, 404, 409, 422, 500, 503];
  for (let k = 0; k < REQUESTS_BETWEEN_SCRAPES; k++) {
    const i = Math.floor(random() * labelSets);
    const method = methods[i % methods.length]!;
    const status = statuses[Math.floor(i / methods.length) % statuses.length]!;
    const endpoint = `/api/resource${Math.floor(i / (methods.length * statuses.length))}/:id`;
    observe(method, endpoint, status, random() / 2);
  }
}

/** A seeded generator (mulberry32), so every run draws the same traffic. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Times `render` (to the bytes sent) `renders` times, with a scrape interval's traffic before each. */
async function timeRenders(
  renders: number,
  traffic: () => void,
  render: () => Promise<Buffer>,
): Promise<{ times: number[]; body: Buffer }> {
  const times: number[] = [];
  let body: Buffer = Buffer.alloc(0);
  for (let i = 0; i < renders; i++) {
    traffic();
    const t0 = performance.now();
    body = await render();
    times.push(performance.now() - t0);
  }
  return { times, body };
}

export async function scrapeCost(labelSets: number, renders: number): Promise<ScrapeCost> {
  const metrics = populate(new HttpMetrics({ version: 'bench' }), labelSets);
  const random = seeded(labelSets);
  const { times, body } = await timeRenders(
    renders,
    () => trafficBetweenScrapes(labelSets, (m, e, s, d) => metrics.observe(m, e, s, d), random),
    async () => (await metrics.render(undefined)).body,
  );
  return {
    labelSets,
    samples: body
      .toString()
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#')).length,
    bytes: body.length,
    renderMsMedian: median(times),
    renderMsMax: Math.max(...times),
  };
}

/** Median render time of the same label sets and traffic through prom-client's own metric types, in ms. */
export async function promClientRenderMs(labelSets: number, renders: number): Promise<number> {
  const { registry, observe } = promClientRegistry(labelSets);
  const random = seeded(labelSets);
  const { times } = await timeRenders(
    renders,
    () => trafficBetweenScrapes(labelSets, observe, random),
    async () => Buffer.from(await registry.metrics()),
  );
  return median(times);
}
