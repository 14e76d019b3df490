/**
 * The cost of a scrape: render time and size of /metrics at a given number of label sets (each
 * a counter and a histogram series, as a real request mix makes), and the longest event-loop
 * block while scrapes run back to back.
 */
import { HttpMetrics } from '../../src/metrics/registry';

export interface ScrapeCost {
  labelSets: number;
  samples: number;
  bytes: number;
  renderMsMedian: number;
  renderMsMax: number;
}

/** Adds `labelSets` distinct (method, endpoint, status) label sets to `metrics`. */
export function populate(metrics: HttpMetrics, labelSets: number): HttpMetrics {
  const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
  const statuses = [200, 201, 204, 400, 404, 409, 422, 500, 503];
  for (let i = 0; i < labelSets; i++) {
    const method = methods[i % methods.length]!;
    const status = statuses[Math.floor(i / methods.length) % statuses.length]!;
    const endpoint = `/api/resource${Math.floor(i / (methods.length * statuses.length))}/:id`;
    metrics.observe(method, endpoint, status, (i % 100) / 200);
  }
  return metrics;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function scrapeCost(labelSets: number, renders: number): Promise<ScrapeCost> {
  const metrics = populate(new HttpMetrics({ version: 'bench' }), labelSets);
  const times: number[] = [];
  let body = '';
  for (let i = 0; i < renders; i++) {
    const t0 = performance.now();
    body = (await metrics.render(undefined)).body;
    times.push(performance.now() - t0);
  }
  return {
    labelSets,
    samples: body.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length,
    bytes: Buffer.byteLength(body),
    renderMsMedian: median(times),
    renderMsMax: Math.max(...times),
  };
}
