/**
 * `npm run load`: realistic CRUD traffic against the API, with a configurable share of injected
 * 5xx and slow requests (the API's fault injection, FAULT_INJECTION=true), a progress line each
 * second and a summary at the end. Traffic is bounded by --duration.
 */
import { parseArgs } from 'node:util';
import { ITEMS_PATH } from '../src/contract';
import { runMain } from './lib/main';

/** A request unanswered this long counts as a connection error (the slowest injected delay is 10 s). */
const REQUEST_TIMEOUT_MS = 30_000;

const HELP = `usage: npm run load -- [options]
  --url URL            API base URL (default http://localhost:8080)
  --duration SECONDS   how long to run (default 60)
  --concurrency N      requests in flight at once (default 8)
  --error-share R      share of requests answered with an injected --error-status (default 0)
  --error-status CODE  status of injected errors, 400-599 (default 503)
  --slow-share R       share of requests delayed by --slow-ms (default 0)
  --slow-ms MS         delay of slow requests, at most 10000 (default 1500)
  --json               print the summary as one JSON line

Recipes (with npm run monitoring:local running):
  make HighErrorRate fire:     npm run load -- --error-share 0.3 --duration 480
  make HighResponseTime fire:  npm run load -- --slow-share 0.1 --slow-ms 1500 --duration 480
  normal traffic:              npm run load -- --duration 120`;

export interface LoadOptions {
  url: string;
  durationS: number;
  concurrency: number;
  errorShare: number;
  errorStatus: number;
  slowShare: number;
  slowMs: number;
}

export interface LoadSummary {
  requests: number;
  perSecond: number;
  byClass: Record<string, number>;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  transportErrors: number;
}

function parseOptions(argv: string[]): (LoadOptions & { json: boolean }) | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: 'string', default: 'http://localhost:8080' },
      duration: { type: 'string', default: '60' },
      concurrency: { type: 'string', default: '8' },
      'error-share': { type: 'string', default: '0' },
      'error-status': { type: 'string', default: '503' },
      'slow-share': { type: 'string', default: '0' },
      'slow-ms': { type: 'string', default: '1500' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return undefined;
  const num = (name: string, value: string, min: number, max: number): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max)
      throw new Error(`--${name} must be a number from ${min} to ${max}, not ${JSON.stringify(value)}`);
    return n;
  };
  return {
    url: values.url.replace(/\/$/, ''),
    durationS: num('duration', values.duration, 1, 86_400),
    concurrency: num('concurrency', values.concurrency, 1, 1000),
    errorShare: num('error-share', values['error-share'], 0, 1),
    errorStatus: num('error-status', values['error-status'], 400, 599),
    slowShare: num('slow-share', values['slow-share'], 0, 1),
    slowMs: num('slow-ms', values['slow-ms'], 0, 10_000),
    json: values.json,
  };
}

const percentile = (sorted: number[], p: number): number =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

/** Runs the load; `onTick` is called once a second with the running totals. */
export async function runLoad(o: LoadOptions, onTick?: (elapsedS: number, s: LoadSummary) => void): Promise<LoadSummary> {
  const deadline = Date.now() + o.durationS * 1000;
  const started = Date.now();
  const ids: string[] = [];
  const latencies: number[] = [];
  const byClass: Record<string, number> = { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 };
  let transportErrors = 0;
  let n = 0;

  const summary = (): LoadSummary => {
    const sorted = [...latencies].sort((a, b) => a - b);
    const elapsed = (Date.now() - started) / 1000;
    return {
      requests: latencies.length,
      perSecond: Math.round(latencies.length / Math.max(elapsed, 0.001)),
      byClass: { ...byClass },
      latencyMs: {
        p50: percentile(sorted, 0.5),
        p95: percentile(sorted, 0.95),
        p99: percentile(sorted, 0.99),
        max: sorted[sorted.length - 1] ?? 0,
      },
      transportErrors,
    };
  };

  async function one(): Promise<void> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (Math.random() < o.errorShare) headers['x-fault-status'] = String(o.errorStatus);
    if (Math.random() < o.slowShare) headers['x-fault-delay-ms'] = String(o.slowMs);
    const id = ids.length > 0 ? ids[Math.floor(Math.random() * ids.length)] : undefined;
    const r = Math.random();
    let method = 'GET';
    let path = `${ITEMS_PATH}?limit=20`;
    let body: string | undefined;
    if (r < 0.15 || id === undefined) {
      method = 'POST';
      path = ITEMS_PATH;
      body = JSON.stringify({ name: `load item ${++n}`, tags: ['load'] });
    } else if (r < 0.45) {
      path = `/api/items/${id}`;
    } else if (r < 0.55) {
      method = 'PATCH';
      path = `/api/items/${id}`;
      body = JSON.stringify({ description: `touched at ${new Date().toISOString()}` });
    } else if (r < 0.6) {
      method = 'DELETE';
      path = `/api/items/${id}`;
      ids.splice(ids.indexOf(id), 1);
    } else if (r < 0.63) {
      path = `/api/items/00000000-0000-4000-8000-${String(n).padStart(12, '0')}`; // a realistic 404
    }
    const t0 = performance.now();
    try {
      const res = await fetch(`${o.url}${path}`, { method, headers, body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      const text = await res.text();
      latencies.push(performance.now() - t0);
      byClass[`${Math.floor(res.status / 100)}xx`] = (byClass[`${Math.floor(res.status / 100)}xx`] ?? 0) + 1;
      if (method === 'POST' && res.status === 201) ids.push((JSON.parse(text) as { id: string }).id);
      if (ids.length > 500) ids.shift();
    } catch {
      transportErrors++;
      await new Promise((r2) => setTimeout(r2, 200));
    }
  }

  const ticker = onTick === undefined ? undefined : setInterval(() => onTick((Date.now() - started) / 1000, summary()), 1000);
  await Promise.all(
    Array.from({ length: o.concurrency }, async () => {
      while (Date.now() < deadline) await one();
    }),
  );
  if (ticker !== undefined) clearInterval(ticker);
  return summary();
}

async function main(): Promise<void> {
  let options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${HELP}\n`);
    process.exit(2);
  }
  if (options === undefined) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const tty = process.stderr.isTTY;
  process.stderr.write(
    `load: ${options.concurrency} in flight against ${options.url} for ${options.durationS}s (errors ${options.errorShare * 100}% as ${options.errorStatus}, slow ${options.slowShare * 100}% by ${options.slowMs} ms)\n`,
  );
  const s = await runLoad(options, (t, s) => {
    const line = `  ${t.toFixed(0).padStart(4)}s  ${String(s.requests).padStart(7)} requests  ${String(s.perSecond).padStart(5)}/s  2xx ${s.byClass['2xx']}  4xx ${s.byClass['4xx']}  5xx ${s.byClass['5xx']}  p95 ${s.latencyMs.p95.toFixed(0)} ms${s.transportErrors ? `  connection errors ${s.transportErrors}` : ''}`;
    process.stderr.write(tty ? `\r${line}` : `${line}\n`);
  });
  if (tty) process.stderr.write('\n');
  if (options.json) {
    process.stdout.write(`${JSON.stringify(s)}\n`);
    return;
  }
  process.stdout.write(
    [
      '',
      `requests        ${s.requests} (${s.perSecond}/s)`,
      `by status       2xx ${s.byClass['2xx']}, 3xx ${s.byClass['3xx']}, 4xx ${s.byClass['4xx']}, 5xx ${s.byClass['5xx']}`,
      `latency (ms)    p50 ${s.latencyMs.p50.toFixed(1)}, p95 ${s.latencyMs.p95.toFixed(1)}, p99 ${s.latencyMs.p99.toFixed(1)}, max ${s.latencyMs.max.toFixed(1)}`,
      `connection errors ${s.transportErrors}`,
      '',
    ].join('\n'),
  );
  if (s.transportErrors > 0 && s.requests === 0) process.exit(1);
}

if (require.main === module) runMain('load', main);
