/**
 * The real app against the reference (reference.ts) on one store: both servers in processes of
 * their own, seeded alike, then rounds of the request mix (mix.ts) that alternate which one runs
 * first, each measured for throughput, p99 and the server process's CPU time per request. Also
 * the embedded store's start: the real server to `/readyz` 200 against PGlite's own open.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PGLITE_SETTINGS } from '../../src/store/driver';
import { freePort, serverArgs, spawnProcess } from '../lib/processes';
import { runMix, seed } from './mix';
import type { MixResult } from './mix';

export type StoreKind = 'pglite' | 'postgres';
export type AppKind = 'real' | 'reference';

const REFERENCE = join(__dirname, 'reference.js');
const READY_TIMEOUT_MS = 120_000;
/** Items in the store before the first round. */
export const SEEDED_ITEMS = 1000;
/** Linux's clock ticks per second, the unit of /proc/<pid>/stat's CPU times (`getconf CLK_TCK`). */
const CLOCK_TICKS = 100;

export interface BenchApp {
  readonly kind: AppKind;
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** User + system CPU time of a process so far, in µs, from /proc. */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS) * 1e6;
}

/** Resident memory of a process, in MB. */
export function rssMb(pid: number): number {
  const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}

function exitOf(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/**
 * The real server as `npm start` runs it (default log level; its log lines go to `logFile`, as a
 * container's stdout would go to the runtime), with `env` naming its store; resolves once
 * `/readyz` answers 200, with the milliseconds that took from the spawn.
 */
export async function startReal(env: Record<string, string>, logFile: string): Promise<BenchApp & { readyMs: number }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const log = openSync(logFile, 'a');
  const base = { ...process.env };
  delete base.DATABASE_URL;
  delete base.DATA_DIR;
  const t0 = performance.now();
  // MAX_REQUESTS_PER_SOCKET=0: past the cap Node answers `Connection: close`, which autocannon
  // ignores, sending its next request on the same connection and getting Node's 503. Clients
  // that honour the header reconnect instead; the cap costs nothing per request.
  const child = spawn(process.execPath, serverArgs(), {
    env: { ...base, PORT: String(port), MAX_REQUESTS_PER_SOCKET: '0', ...env },
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  const exited = exitOf(child);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  for (const deadline = Date.now() + READY_TIMEOUT_MS; ; await sleep(5)) {
    if (child.exitCode !== null)
      throw new Error(`the server exited with ${child.exitCode}:\n${readFileSync(logFile, 'utf8').slice(-2000)}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the server was not ready within ${READY_TIMEOUT_MS} ms`);
    }
    const ok = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return { kind: 'real', url, pid: child.pid!, stop, readyMs: performance.now() - t0 };
  }
}

/** The reference app on `store`, at `where` (its data directory or database URL). */
export async function startReference(store: StoreKind, where: string): Promise<BenchApp> {
  const p = spawnProcess(`reference (${store})`, process.execPath, [REFERENCE, store, '0', where]);
  try {
    const [, port] = await p.waitForOutput(/ready (\d+)/, READY_TIMEOUT_MS);
    return {
      kind: 'reference',
      url: `http://127.0.0.1:${port}`,
      pid: p.child.pid!,
      stop: async () => {
        await p.stop();
      },
    };
  } catch (err) {
    await p.stop('SIGKILL');
    throw err;
  }
}

export interface Measured extends MixResult {
  app: AppKind;
  round: number;
  cpuMicrosPerRequest: number;
  rssMb: number;
}

async function measure(app: BenchApp, ids: readonly string[], seconds: number, round: number): Promise<Measured> {
  const cpu0 = cpuMicros(app.pid);
  const r = await runMix(app.url, ids, seconds);
  const cpu = cpuMicros(app.pid) - cpu0;
  // A wrong answer voids the comparison; a timeout on an overloaded machine is reported with the run.
  if (r.non2xx > 0) throw new Error(`${app.kind} app: ${r.non2xx} answers not 2xx in round ${round} (${JSON.stringify(r.statuses)})`);
  return { ...r, app: app.kind, round, cpuMicrosPerRequest: cpu / r.requests, rssMb: rssMb(app.pid) };
}

/** Both apps of a comparison. */
export interface AppPair {
  real: BenchApp;
  reference: BenchApp;
}

/**
 * Seeds both apps, warms each up for `warmup` seconds, then runs `rounds` pairs of the mix,
 * alternating which app goes first. Given `restart`, every round after the first runs on a new
 * pair of processes (stopped and started again on the same data, then warmed up): the same
 * build varies by up to ±20% from one process to the next here (PGlite most), so each round's
 * pair is then an independent draw and the median of the rounds cannot rest on one lucky or
 * unlucky process. Resolves with every measurement, in order.
 */
export async function compare(
  first: AppPair,
  o: { rounds: number; seconds: number; warmup: number; onRun?: (m: Measured) => void; restart?: () => Promise<AppPair> },
): Promise<Measured[]> {
  let apps = first;
  const ids = { real: await seed(apps.real.url, SEEDED_ITEMS), reference: await seed(apps.reference.url, SEEDED_ITEMS) };
  const runs: Measured[] = [];
  for (let round = 1; round <= o.rounds; round++) {
    if (round > 1 && o.restart !== undefined) apps = await o.restart();
    if (round === 1 || o.restart !== undefined)
      for (const kind of ['real', 'reference'] as const) await runMix(apps[kind].url, ids[kind], o.warmup);
    const order: AppKind[] = round % 2 === 1 ? ['real', 'reference'] : ['reference', 'real'];
    for (const kind of order) {
      const m = await measure(apps[kind], ids[kind], o.seconds, round);
      runs.push(m);
      o.onRun?.(m);
    }
  }
  return runs;
}

/** Milliseconds from spawning a Node.js process to PGlite having opened `dataDir`, with the service's settings. */
export async function pgliteOpenMs(dataDir: string): Promise<number> {
  const pglite = require.resolve('@electric-sql/pglite');
  const script = `require(${JSON.stringify(pglite)}).PGlite.create({ dataDir: ${JSON.stringify(dataDir)}, postgresqlconf: ${JSON.stringify(PGLITE_SETTINGS)} })
  .then((db) => { process.stdout.write('open\\n'); return db.close(); });`;
  const t0 = performance.now();
  const p = spawnProcess('PGlite open', process.execPath, ['-e', script]);
  await p.waitForOutput(/^open$/m, READY_TIMEOUT_MS);
  const ms = performance.now() - t0;
  await p.exited;
  return ms;
}

export interface Stat {
  median: number;
  min: number;
  max: number;
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const stat = (xs: readonly number[]): Stat => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });

export interface StoreSummary {
  store: StoreKind;
  real: { reqPerSec: Stat; p99: number; cpu: number };
  reference: { reqPerSec: Stat; p99: number; cpu: number };
  /** Per round: real / reference. */
  ratio: { reqPerSec: Stat; p99: Stat; cpu: Stat };
  /** The real app's largest RSS after a round. */
  realRssMb: number;
}

/** Summarises measurements: medians, and each ratio as the median of the rounds' paired ratios. */
export function summarise(store: StoreKind, runs: readonly Measured[]): StoreSummary {
  const of = (app: AppKind) => runs.filter((r) => r.app === app);
  const side = (app: AppKind) => ({
    reqPerSec: stat(of(app).map((r) => r.reqPerSec)),
    p99: median(of(app).map((r) => r.p99)),
    cpu: median(of(app).map((r) => r.cpuMicrosPerRequest)),
  });
  const pairs = of('real').map((real) => [real, of('reference').find((r) => r.round === real.round)!] as const);
  const paired = (f: (m: Measured) => number) => stat(pairs.map(([real, ref]) => f(real) / f(ref)));
  return {
    store,
    real: side('real'),
    reference: side('reference'),
    ratio: { reqPerSec: paired((r) => r.reqPerSec), p99: paired((r) => r.p99), cpu: paired((r) => r.cpuMicrosPerRequest) },
    realRssMb: Math.max(...of('real').map((r) => r.rssMb)),
  };
}
