/**
 * `npm run bench`: what the service costs. Three parts, each alternating its variants over
 * several rounds so machine drift cancels, every server in its own process under autocannon
 * (50 connections):
 *   middleware  (A) bare Express 5, (B) the project's metrics middleware and (C)
 *               express-prom-bundle on the same in-memory GET /api/items/:id
 *   apps        the real server against a minimal Express + driver app (bench/reference.ts) on
 *               the embedded store and on PostgreSQL, under a CRUD mix (bench/mix.ts); the
 *               embedded store's RSS after the load and its start against PGlite's own open
 *   scrape      /metrics at 10, 100, 1,000 label sets and at the ServiceMonitor's sample limit,
 *               and the event-loop delay of a server scraped under load
 *   --rounds N (5)  --duration S (10 s a run)  --only middleware,apps,scrape  --stores pglite,postgres
 *   --quick  a smoke run of a few minutes     --json  one JSON object as the last line
 *   --capacity  only the per-pod capacity of the built server (tools/bench/capacity.ts), on the
 *               embedded store or on DATABASE_URL's PostgreSQL
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { resolveConfig } from '../k8s/config';
import { measureCapacity } from './bench/capacity';
import { BENCH_ITEM_ID } from './bench/server';
import { promClientRenderMs, scrapeCost } from './bench/scrape';
import type { ScrapeCost } from './bench/scrape';
import { compare, median, pgliteOpenMs, startReal, startReference, summarise } from './bench/versus';
import type { BenchApp, Measured, StoreKind, StoreSummary } from './bench/versus';
import { runMain } from './lib/main';
import { PgServer, scratchDatabase } from './lib/pg-server';
import { freePort, killChildrenOnSignal, spawnProcess } from './lib/processes';
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

interface BenchServer {
  readonly process: RunningProcess;
  readonly url: string;
  readonly itemId: string;
}

async function startServer(variant: string, env: Record<string, string> = {}): Promise<BenchServer> {
  const server = spawnProcess(`bench server ${variant}`, process.execPath, [SERVER, variant, '0'], {
    env,
  });
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

const fmt = (n: number) => Math.round(n).toLocaleString('en');
const spread = (s: { median: number; min: number; max: number }, digits = 2) =>
  `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;

interface StoreRun {
  summary: StoreSummary;
  /** Embedded store only: medians of the real server's first and warm start to /readyz 200, and of PGlite's own open. */
  start?: { firstMs: number; warmMs: number; pgliteOpenMs: number };
}

/**
 * The real app against the reference on `store`: fresh data directories, or databases of their
 * own on TEST_DATABASE_URL's server (else on a throwaway server started here).
 */
async function realVsReference(store: StoreKind, o: { rounds: number; seconds: number; warmup: number }): Promise<StoreRun> {
  const dir = mkdtempSync(join(tmpdir(), `bench-${store}-`));
  const undo: (() => Promise<void>)[] = [() => Promise.resolve(rmSync(dir, { recursive: true, force: true }))];
  const later = (f: () => Promise<void>) => undo.push(f);
  try {
    let realEnv: Record<string, string>;
    let referenceAt: string;
    if (store === 'pglite') {
      realEnv = { DATA_DIR: join(dir, 'real') };
      referenceAt = join(dir, 'reference');
    } else {
      let admin = process.env.TEST_DATABASE_URL;
      if (admin === undefined || admin === '') {
        const server = new PgServer(await freePort());
        later(() => server.destroy());
        await server.start();
        admin = server.url;
      }
      const forReal = await scratchDatabase(admin, 'bench_real');
      later(() => forReal.drop());
      const forReference = await scratchDatabase(admin, 'bench_reference');
      later(() => forReference.drop());
      realEnv = { DATABASE_URL: forReal.url };
      referenceAt = forReference.url;
    }
    const logFile = join(dir, 'real.log');
    let real: BenchApp & { readyMs: number } = await startReal(realEnv, logFile);
    const firstMs = real.readyMs;
    let reference = await startReference(store, referenceAt);
    later(() => Promise.all([real.stop(), reference.stop()]).then(() => undefined));
    const runs = await compare(
      { real, reference },
      {
        ...o,
        restart: async () => {
          await Promise.all([real.stop(), reference.stop()]);
          real = await startReal(realEnv, logFile);
          reference = await startReference(store, referenceAt);
          return { real, reference };
        },
        onRun: (m: Measured) =>
          log(
            `  ${store.padEnd(8)} round ${m.round}/${o.rounds} ${m.app.padEnd(9)} ${fmt(m.reqPerSec).padStart(6)} req/s  p99 ${m.p99} ms  CPU ${fmt(m.cpuMicrosPerRequest)} µs/req  RSS ${fmt(m.rssMb)} MB${m.errors > 0 ? `  ${m.errors} timeouts or errors` : ''}`,
          ),
      },
    );
    const summary = summarise(store, runs);
    if (store === 'postgres') return { summary };
    // Warm starts of the real server against PGlite's own open of the same directory, alternating.
    await real.stop();
    await reference.stop();
    const warm: number[] = [];
    const open: number[] = [];
    for (let i = 0; i < 3; i++) {
      real = await startReal(realEnv, logFile);
      warm.push(real.readyMs);
      await real.stop();
      open.push(await pgliteOpenMs(realEnv.DATA_DIR!));
    }
    log(
      `  pglite   start: first ${fmt(firstMs)} ms, warm ${warm.map(fmt).join(' / ')} ms; PGlite's own open ${open.map(fmt).join(' / ')} ms`,
    );
    return { summary, start: { firstMs, warmMs: median(warm), pgliteOpenMs: median(open) } };
  } finally {
    for (const f of undo.reverse()) await f().catch((err: unknown) => log(`  cleanup: ${(err as Error).message}`));
  }
}

/** (A) bare, (B) project middleware, (C) express-prom-bundle on the no-op route, rounds rotating their order. */
async function middlewareRounds(rounds: number, seconds: number, warmup: number) {
  const runs: Run[] = [];
  const variants = ['bare', 'project', 'bundle'];
  for (let round = 0; round < rounds; round++) {
    // Rotate the order each round so no variant always runs first or last.
    const order = variants.map((_, i) => variants[(i + round) % variants.length]!);
    for (const variant of order) {
      const run = await measure(variant, seconds, warmup);
      runs.push(run);
      log(
        `  round ${round + 1}/${rounds}  ${variant.padEnd(8)} ${fmt(run.reqPerSec).padStart(7)} req/s  p50 ${run.p50} ms  p99 ${run.p99} ms`,
      );
    }
  }
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
  const table = [
    '| variant | req/s median | min | max | p50 ms | p99 ms |',
    '|---|---|---|---|---|---|',
    `| A bare Express 5 | ${fmt(a.median)} | ${fmt(a.min)} | ${fmt(a.max)} | ${a.p50} | ${a.p99} |`,
    `| B project middleware | ${fmt(b.median)} | ${fmt(b.min)} | ${fmt(b.max)} | ${b.p50} | ${b.p99} |`,
    `| C express-prom-bundle | ${fmt(c.median)} | ${fmt(c.min)} | ${fmt(c.max)} | ${c.p50} | ${c.p99} |`,
    '',
    `B/A (overhead_ratio) ${(b.median / a.median).toFixed(3)}   B/C (vs_express_prom_bundle) ${(b.median / c.median).toFixed(3)}`,
    '',
  ];
  return {
    table,
    json: {
      overhead_ratio: b.median / a.median,
      vs_express_prom_bundle: b.median / c.median,
      req_per_sec: { bare: a.median, project: b.median, bundle: c.median },
    },
  };
}

/** The real app against the reference on each store: the table and the JSON fields. */
async function realApps(stores: readonly StoreKind[], o: { rounds: number; seconds: number; warmup: number }) {
  const results: StoreRun[] = [];
  for (const store of stores) results.push(await realVsReference(store, o));
  const table = [
    '| store | app | req/s median (min–max) | p99 ms | CPU µs/req |',
    '|---|---|---|---|---|',
    ...results.flatMap(({ summary: s }) =>
      (['reference', 'real'] as const).map(
        (app) =>
          `| ${s.store} | ${app} | ${fmt(s[app].reqPerSec.median)} (${fmt(s[app].reqPerSec.min)}–${fmt(s[app].reqPerSec.max)}) | ${s[app].p99} | ${fmt(s[app].cpu)} |`,
      ),
    ),
    '',
    '| store | real / reference: req/s | p99 | CPU per request |',
    '|---|---|---|---|',
    ...results.map(({ summary: s }) => `| ${s.store} | ${spread(s.ratio.reqPerSec)} | ${spread(s.ratio.p99)} | ${spread(s.ratio.cpu)} |`),
    '',
    `(each ratio: the median of ${o.rounds} rounds' paired ratios, min–max in parentheses; each round on a new pair of processes; RSS: the largest after a round)`,
  ];
  const pglite = results.find((r) => r.start !== undefined);
  if (pglite?.start !== undefined) {
    const { firstMs, warmMs, pgliteOpenMs: openMs } = pglite.start;
    table.push(
      `embedded store: RSS after the load ${fmt(pglite.summary.realRssMb)} MB; start to /readyz 200: first ${fmt(firstMs)} ms, warm ${fmt(warmMs)} ms against PGlite's own open ${fmt(openMs)} ms (${(warmMs / openMs).toFixed(2)}x)`,
    );
  }
  table.push('');
  const byStore = <T>(f: (r: StoreRun) => T) => Object.fromEntries(results.map((r) => [r.summary.store, f(r)]));
  return {
    table,
    json: {
      real_app_vs_reference: byStore((r) => r.summary.ratio.reqPerSec.median),
      real_app_vs_reference_range: byStore((r) => [r.summary.ratio.reqPerSec.min, r.summary.ratio.reqPerSec.max]),
      real_app_p99_vs_reference: byStore((r) => r.summary.ratio.p99.median),
      cpu_us_per_request: byStore((r) => ({ real: r.summary.real.cpu, reference: r.summary.reference.cpu })),
      ...(pglite?.start !== undefined && {
        embedded_rss_mb: pglite.summary.realRssMb,
        warm_start_ms: pglite.start.warmMs,
        pglite_open_ms: pglite.start.pgliteOpenMs,
        first_start_ms: pglite.start.firstMs,
      }),
    },
  };
}

/** The cost of /metrics at several sizes, and the event-loop delay it causes under load. */
async function scrapes(quick: boolean) {
  // "cap" = label sets whose exposition reaches the ServiceMonitor's sampleLimit.
  const sampleLimit = resolveConfig({}).serviceMonitor.sampleLimit;
  const renders = quick ? 20 : 100;
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
  const eldSeconds = quick ? 3 : 10;
  const eldBase = await scrapeUnderLoad(cap, eldSeconds, false);
  const eldCap = await scrapeUnderLoad(cap, eldSeconds);
  const eld1000 = await scrapeUnderLoad(1000, eldSeconds);
  log(
    `  event-loop delay under load: no scrapes max ${eldBase.maxMs.toFixed(1)} ms (p99 ${eldBase.p99Ms.toFixed(1)}); scraped every 100 ms at the cap (${cap} sets) max ${eldCap.maxMs.toFixed(1)} ms (p99 ${eldCap.p99Ms.toFixed(1)}), at 1,000 sets max ${eld1000.maxMs.toFixed(1)} ms`,
  );
  const table = [
    '| label sets | samples | size | render median ms | render max ms |',
    '|---|---|---|---|---|',
    ...costs.map(
      (s) =>
        `| ${s.labelSets}${s.labelSets === cap ? ' (cap)' : ''} | ${s.samples} | ${(s.bytes / 1024).toFixed(0)} KiB | ${s.renderMsMedian.toFixed(2)} | ${s.renderMsMax.toFixed(2)} |`,
    ),
    '',
    `render at 1,000 label sets vs prom-client's own Counter/Histogram (render_speedup_vs_prom_client) ${renderSpeedup.toFixed(2)}x (${promClient1000.toFixed(2)} ms)`,
    `event-loop delay under load: max ${eldBase.maxMs.toFixed(1)} ms without scrapes; scraped every 100 ms: max ${eldCap.maxMs.toFixed(1)} ms at the cap, ${eld1000.maxMs.toFixed(1)} ms at 1,000 label sets`,
    '',
  ];
  return {
    table,
    json: {
      metrics_ms_1000: costs[2]!.renderMsMedian,
      metrics_ms_cap: costs[3]!.renderMsMedian,
      prom_client_metrics_ms_1000: promClient1000,
      render_speedup_vs_prom_client: renderSpeedup,
      cap_label_sets: cap,
      event_loop_max_ms_cap: eldCap.maxMs,
      event_loop_max_ms_no_scrape: eldBase.maxMs,
      event_loop_max_ms_1000: eld1000.maxMs,
    },
  };
}

const PARTS = ['middleware', 'apps', 'scrape'] as const;
const STORES: readonly StoreKind[] = ['pglite', 'postgres'];

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
      only: { type: 'string' },
      stores: { type: 'string' },
      capacity: { type: 'boolean', default: false },
    },
  });
  if (values.capacity) return capacity(Number(values.duration ?? 5), values.json);
  const rounds = Number(values.rounds ?? (values.quick ? 2 : 5));
  const seconds = Number(values.duration ?? (values.quick ? 3 : 10));
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a whole number of at least 1, not ${values.rounds}`);
  if (!(seconds >= 1)) throw new Error(`--duration must be at least 1 (seconds), not ${values.duration}`);
  const only = values.only?.split(',') ?? [...PARTS];
  const unknownPart = only.find((p) => !(PARTS as readonly string[]).includes(p));
  if (unknownPart !== undefined) throw new Error(`--only takes ${PARTS.join(', ')}; not ${unknownPart}`);
  const stores = (values.stores?.split(',') ?? [...STORES]) as StoreKind[];
  const unknownStore = stores.find((s) => !STORES.includes(s));
  if (unknownStore !== undefined) throw new Error(`--stores takes ${STORES.join(', ')}; not ${unknownStore}`);
  const warmup = values.quick ? 1 : 3;
  const started = Date.now();
  log(
    `bench: ${rounds} rounds of ${seconds}s each (+${warmup}s warm-up), 50 connections, on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`,
  );
  const parts = [];
  if (only.includes('middleware')) parts.push(await middlewareRounds(rounds, seconds, warmup));
  if (only.includes('apps')) parts.push(await realApps(stores, { rounds, seconds, warmup }));
  if (only.includes('scrape')) parts.push(await scrapes(values.quick));
  process.stdout.write(['', ...parts.flatMap((p) => p.table), `(${((Date.now() - started) / 1000).toFixed(0)} s)`, ''].join('\n'));
  if (values.json) process.stdout.write(`${JSON.stringify(Object.assign({}, ...parts.map((p) => p.json), { rounds, seconds }))}\n`);
}

runMain('bench', main);
