/**
 * `npm run bench`: what the instrumentation costs. Alternates, for several rounds so machine
 * drift cancels, (A) bare Express 5, (B) the project's metrics middleware and (C)
 * express-prom-bundle on the same in-memory GET /api/items/:id, each server in its own process
 * under autocannon (50 connections); then the real app on the embedded store; then the cost of
 * a scrape at 10, 100, 1,000 label sets and at the ServiceMonitor's sample limit, and the
 * event-loop delay of the server while it is scraped under load.
 *   --quick  a smoke run of at most about a minute     --json  one JSON object as the last line
 *   --capacity  only the per-pod capacity of the built server (tools/bench/capacity.ts), on the
 *               embedded store or on DATABASE_URL's PostgreSQL
 */
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { resolveConfig } from '../k8s/config';
import { measureCapacity } from './bench/capacity';
import { BENCH_ITEM_ID } from './bench/server';
import { promClientRenderMs, scrapeCost } from './bench/scrape';
import type { ScrapeCost } from './bench/scrape';
import { runMain } from './lib/main';
import { killChildrenOnSignal, spawnProcess } from './lib/processes';
import type { RunningProcess } from './lib/processes';

interface Run {
  variant: string;
  reqPerSec: number;
  p50: number;
  p99: number;
}

const SERVER = join(__dirname, 'bench', 'server.js');
/** Bound on one request of the runner's own (a scrape at the sample limit under load included). */
const FETCH_TIMEOUT_MS = 30_000;
const log = (line: string) => process.stderr.write(`${line}\n`);
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

interface BenchServer {
  readonly process: RunningProcess;
  readonly url: string;
  readonly itemId: string;
}

async function startServer(variant: string, env: Record<string, string> = {}): Promise<BenchServer> {
  const server = spawnProcess(
    `bench server ${variant}`,
    process.execPath,
    [SERVER, variant, '0', join(tmpdir(), `bench-${process.pid}-${Date.now()}`)],
    {
      env,
    },
  );
  try {
    const [, port] = await server.waitForOutput(/ready (\d+)/);
    return { process: server, url: `http://127.0.0.1:${port}`, itemId: /item (\S+)/.exec(server.output())?.[1] ?? BENCH_ITEM_ID };
  } catch (err) {
    await server.stop('SIGKILL');
    throw err;
  }
}

/** What the bench server's /__event-loop answers. */
interface EventLoopDelay {
  maxMs: number;
  p99Ms: number;
}

/** The body of a GET; an answer other than 2xx is an error, not a measurement. */
async function getText(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
  return res.text();
}

async function load(url: string, seconds: number): Promise<autocannon.Result> {
  return autocannon({ url, connections: 50, duration: seconds, pipelining: 1 });
}

async function measure(variant: string, seconds: number, warmup: number): Promise<Run> {
  const server = await startServer(variant);
  try {
    const url = `${server.url}/api/items/${server.itemId}`;
    await load(url, warmup);
    const r = await load(url, seconds);
    if (r.non2xx > 0 || r.errors > 0) throw new Error(`${variant}: ${r.non2xx} non-2xx, ${r.errors} errors`);
    return { variant, reqPerSec: r.requests.average, p50: r.latency.p50, p99: r.latency.p99 };
  } finally {
    await server.process.stop();
  }
}

/**
 * Event-loop delay of the project server holding `labelSets` label sets under load, scraped
 * every 100 ms (or not at all when `scrapeEveryMs` is 0: the baseline of the load alone).
 */
async function scrapeUnderLoad(
  labelSets: number,
  seconds: number,
  scrape = true,
): Promise<{ maxMs: number; p99Ms: number; scrapes: number }> {
  const server = await startServer('project', { BENCH_LABEL_SETS: String(labelSets), BENCH_EVENT_LOOP: 'true' });
  try {
    await getText(`${server.url}/__event-loop`); // resets the histogram
    let scrapes = 0;
    let running = scrape;
    const scraper = (async () => {
      while (running) {
        await getText(`${server.url}/metrics`);
        scrapes++;
        await new Promise((r) => setTimeout(r, 100)); // the scrape interval
      }
    })();
    scraper.catch(() => undefined); // rethrown by the await below, once the load is done
    await load(`${server.url}/api/items/${BENCH_ITEM_ID}`, seconds);
    running = false;
    await scraper;
    const eld = JSON.parse(await getText(`${server.url}/__event-loop`)) as EventLoopDelay;
    return { ...eld, scrapes };
  } finally {
    await server.process.stop();
  }
}

/** The capacity steps: each level of concurrency for `seconds`, then a table (and JSON). */
async function capacity(seconds: number, json: boolean): Promise<void> {
  const databaseUrl = process.env.DATABASE_URL || undefined;
  log(
    `capacity: the built server on ${databaseUrl === undefined ? 'the embedded store' : 'PostgreSQL'}, GET /api/items/:id, ${seconds}s per step, on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`,
  );
  const steps = await measureCapacity([1, 4, 16, 50], seconds, databaseUrl);
  log('| connections | req/s | p50 ms | p99 ms | cores used | req/s per core |');
  log('|---|---|---|---|---|---|');
  for (const s of steps) {
    log(
      `| ${s.connections} | ${Math.round(s.reqPerSec)} | ${s.p50Ms} | ${s.p99Ms} | ${s.cores.toFixed(2)} | ${Math.round(s.reqPerCoreSecond)} |`,
    );
  }
  if (json) process.stdout.write(`${JSON.stringify({ capacity: steps })}\n`);
}

async function main(): Promise<void> {
  killChildrenOnSignal();
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      duration: { type: 'string' },
      capacity: { type: 'boolean', default: false },
    },
  });
  if (values.capacity) return capacity(Number(values.duration ?? 5), values.json);
  const rounds = Number(values.rounds ?? (values.quick ? 2 : 5));
  const seconds = Number(values.duration ?? (values.quick ? 3 : 10));
  const warmup = values.quick ? 1 : 3;
  const started = Date.now();
  log(
    `bench: ${rounds} rounds of bare / project / express-prom-bundle, ${seconds}s each (+${warmup}s warm-up), 50 connections, on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`,
  );

  const runs: Run[] = [];
  const variants = ['bare', 'project', 'bundle'];
  for (let round = 0; round < rounds; round++) {
    // Rotate the order each round so no variant always runs first or last.
    const order = variants.map((_, i) => variants[(i + round) % variants.length]!);
    for (const variant of order) {
      const run = await measure(variant, seconds, warmup);
      runs.push(run);
      log(
        `  round ${round + 1}/${rounds}  ${variant.padEnd(8)} ${Math.round(run.reqPerSec).toLocaleString('en').padStart(7)} req/s  p50 ${run.p50} ms  p99 ${run.p99} ms`,
      );
    }
  }
  const app = await measure('app', seconds, warmup);
  log(`  real app (embedded store) ${Math.round(app.reqPerSec).toLocaleString('en')} req/s  p50 ${app.p50} ms  p99 ${app.p99} ms`);

  const stats = (variant: string) => {
    const rs = runs.filter((r) => r.variant === variant);
    return {
      median: median(rs.map((r) => r.reqPerSec)),
      min: Math.min(...rs.map((r) => r.reqPerSec)),
      max: Math.max(...rs.map((r) => r.reqPerSec)),
      p50: median(rs.map((r) => r.p50)),
      p99: median(rs.map((r) => r.p99)),
    };
  };
  const [a, b, c] = variants.map(stats) as [ReturnType<typeof stats>, ReturnType<typeof stats>, ReturnType<typeof stats>];

  // Scrape cost; "cap" = label sets whose exposition reaches the ServiceMonitor's sampleLimit.
  const sampleLimit = resolveConfig({}).serviceMonitor.sampleLimit;
  const renders = values.quick ? 20 : 100;
  const costs: ScrapeCost[] = [];
  for (const n of [10, 100, 1000]) costs.push(await scrapeCost(n, renders));
  const perSet = (costs[2]!.samples - costs[1]!.samples) / 900;
  const cap = Math.floor(100 + (sampleLimit - costs[1]!.samples) / perSet);
  costs.push(await scrapeCost(cap, renders));
  for (const s of costs)
    log(
      `  /metrics at ${String(s.labelSets).padStart(4)} label sets: ${s.samples} samples, ${(s.bytes / 1024).toFixed(0)} KiB, render median ${s.renderMsMedian.toFixed(2)} ms (max ${s.renderMsMax.toFixed(2)})`,
    );
  const promClient1000 = await promClientRenderMs(1000, renders);
  const renderSpeedup = promClient1000 / costs[2]!.renderMsMedian;
  log(
    `  prom-client's own types at 1,000 label sets: render median ${promClient1000.toFixed(2)} ms (the project's is ${renderSpeedup.toFixed(2)}x faster)`,
  );
  const eldSeconds = values.quick ? 3 : 10;
  const eldBase = await scrapeUnderLoad(cap, eldSeconds, false);
  const eldCap = await scrapeUnderLoad(cap, eldSeconds);
  const eld1000 = await scrapeUnderLoad(1000, eldSeconds);
  log(
    `  event-loop delay under load: no scrapes max ${eldBase.maxMs.toFixed(1)} ms (p99 ${eldBase.p99Ms.toFixed(1)}); scraped every 100 ms at the cap (${cap} sets) max ${eldCap.maxMs.toFixed(1)} ms (p99 ${eldCap.p99Ms.toFixed(1)}), at 1,000 sets max ${eld1000.maxMs.toFixed(1)} ms`,
  );

  const fmt = (n: number) => Math.round(n).toLocaleString('en');
  const table = [
    '',
    '| variant | req/s median | min | max | p50 ms | p99 ms |',
    '|---|---|---|---|---|---|',
    `| A bare Express 5 | ${fmt(a.median)} | ${fmt(a.min)} | ${fmt(a.max)} | ${a.p50} | ${a.p99} |`,
    `| B project middleware | ${fmt(b.median)} | ${fmt(b.min)} | ${fmt(b.max)} | ${b.p50} | ${b.p99} |`,
    `| C express-prom-bundle | ${fmt(c.median)} | ${fmt(c.min)} | ${fmt(c.max)} | ${c.p50} | ${c.p99} |`,
    `| real app, embedded store | ${fmt(app.reqPerSec)} | | | ${app.p50} | ${app.p99} |`,
    '',
    `B/A (overhead_ratio) ${(b.median / a.median).toFixed(3)}   B/C (vs_express_prom_bundle) ${(b.median / c.median).toFixed(3)}`,
    '',
    '| label sets | samples | size | render median ms | render max ms |',
    '|---|---|---|---|---|',
    ...costs.map(
      (s) =>
        `| ${s.labelSets}${s.labelSets === cap ? ' (cap)' : ''} | ${s.samples} | ${(s.bytes / 1024).toFixed(0)} KiB | ${s.renderMsMedian.toFixed(2)} | ${s.renderMsMax.toFixed(2)} |`,
    ),
    '',
    `render at 1,000 label sets vs prom-client's own Counter/Histogram (render_speedup_vs_prom_client) ${renderSpeedup.toFixed(2)}x (${promClient1000.toFixed(2)} ms)`,
    `event-loop delay under load: max ${eldBase.maxMs.toFixed(1)} ms without scrapes; scraped every 100 ms: max ${eldCap.maxMs.toFixed(1)} ms at the cap, ${eld1000.maxMs.toFixed(1)} ms at 1,000 label sets`,
    `(${((Date.now() - started) / 1000).toFixed(0)} s)`,
    '',
  ];
  process.stdout.write(table.join('\n'));
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({
        overhead_ratio: b.median / a.median,
        vs_express_prom_bundle: b.median / c.median,
        metrics_ms_1000: costs[2]!.renderMsMedian,
        metrics_ms_cap: costs[3]!.renderMsMedian,
        prom_client_metrics_ms_1000: promClient1000,
        render_speedup_vs_prom_client: renderSpeedup,
        cap_label_sets: cap,
        event_loop_max_ms_cap: eldCap.maxMs,
        event_loop_max_ms_no_scrape: eldBase.maxMs,
        event_loop_max_ms_1000: eld1000.maxMs,
        req_per_sec: { bare: a.median, project: b.median, bundle: c.median, app: app.reqPerSec },
        rounds,
        seconds,
      })}\n`,
    );
  }
}

runMain('bench', main);
