/**
 * `npm run reliability`: hostile input, random URLs, kill -9 during writes, SIGTERM under
 * keep-alive clients, a pipelining flood and slow clients, against the built server on the
 * embedded store and on PostgreSQL, on loopback only. Prints one table and exits 1 when any
 * scenario fails its check. Every loop is bounded in count and time.
 *   --short             the CI run (well under a minute for both stores)
 *   --server <file>     the server entry to test @default build/src/server.js
 *   --stores <list>     pglite,postgres @default both
 *   --database-url <u>  PostgreSQL to create a scratch database in @default $TEST_DATABASE_URL
 *   --json              one JSON object as the last line
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { amplifyingBodies } from './reliability/bodies';
import type { BodyResult } from './reliability/bodies';
import { hostileInput, randomUrls } from './reliability/input';
import type { HostileResult, RandomUrlResult } from './reliability/input';
import { killDuringWrites, sigtermUnderKeepAlive } from './reliability/lifecycle';
import type { DrainResult, KillResult } from './reliability/lifecycle';
import { pipelineFlood, seed, slowClients } from './reliability/overload';
import type { FloodResult, SlowResult } from './reliability/overload';
import type { TargetOptions } from './reliability/target';
import { startTarget } from './reliability/target';
import { runMain } from './lib/main';
import { scratchDatabase } from './lib/pg-server';
import { API_ENTRY, killChildrenOnSignal } from './lib/processes';

const log = (line: string) => process.stderr.write(`${line}\n`);

interface Sizes {
  hostile: number;
  randomUrls: number;
  killRounds: number;
  killWriteMs: number;
  sigtermConnections: number;
  floodSockets: number;
  floodPerSocket: number;
  floodHoldMs: number;
  slowClients: number;
  slowLimitMs: number;
  /** How long to wait for an amplifying body's answer. */
  bodyTimeoutMs: number;
  /** Extra server settings (short timeouts for the short run). */
  env: Record<string, string>;
}

const FULL: Sizes = {
  hostile: 11_000,
  randomUrls: 100_000,
  killRounds: 5,
  killWriteMs: 3_000,
  sigtermConnections: 200,
  floodSockets: 20,
  floodPerSocket: 2_000,
  floodHoldMs: 15_000,
  slowClients: 20,
  slowLimitMs: 100_000,
  bodyTimeoutMs: 60_000,
  env: {},
};
const SHORT: Sizes = {
  hostile: 400,
  randomUrls: 1_500,
  killRounds: 1,
  killWriteMs: 1_500,
  sigtermConnections: 40,
  floodSockets: 5,
  floodPerSocket: 400,
  floodHoldMs: 3_000,
  slowClients: 3,
  slowLimitMs: 8_000,
  bodyTimeoutMs: 10_000,
  env: { HEADERS_TIMEOUT_MS: '2000', REQUEST_TIMEOUT_MS: '4000' },
};

/** Memory a flood may add on top of the process's resting size. */
const FLOOD_GROWTH_LIMIT_MB = 256;
/**
 * Slowest /healthz allowed during the flood: under the liveness probe's 3 s timeout
 * (k8s/constructs/api.ts), with room for a slower machine.
 */
const HEALTHZ_LIMIT_MS = 2_000;
/** Slowest answer a normal client may get while slow clients hold connections. */
const OTHERS_LIMIT_MS = 1_000;
/** An amplifying body's answer: at most this large, this slow, and /healthz this fast meanwhile. */
const BODY_ANSWER_LIMIT_BYTES = 16 * 1024;
const BODY_TIME_LIMIT_MS = 1_000;
const BODY_HEALTHZ_LIMIT_MS = 1_000;
/** Random URLs may add a bounded number of `<unmatched>` series (one per method and status), never one per URL. */
const NEW_SERIES_LIMIT = 20;

interface StoreReport {
  store: string;
  hostile: HostileResult;
  bodies: BodyResult[];
  random: RandomUrlResult;
  kill: KillResult;
  sigterm: DrainResult;
  flood: FloodResult;
  slow: SlowResult;
  failures: string[];
}

function check(report: Omit<StoreReport, 'failures'>): string[] {
  const f: string[] = [];
  const { hostile, bodies, random, kill, sigterm, flood, slow } = report;
  if (hostile.answered5xx > 0 || hostile.counted5xx > 0)
    f.push(`hostile input: ${hostile.answered5xx} answered 5xx, ${hostile.counted5xx} counted (${hostile.examples.join('; ')})`);
  for (const b of bodies) {
    if (b.status < 400 || b.status >= 500) f.push(`body "${b.name}": answered ${b.status || 'nothing'} (a 4xx is expected)`);
    if (b.responseBytes > BODY_ANSWER_LIMIT_BYTES)
      f.push(`body "${b.name}": ${b.responseBytes} bytes answered (limit ${BODY_ANSWER_LIMIT_BYTES})`);
    if (b.ms > BODY_TIME_LIMIT_MS) f.push(`body "${b.name}": answered in ${b.ms} ms (limit ${BODY_TIME_LIMIT_MS})`);
    if (b.healthzMaxMs > BODY_HEALTHZ_LIMIT_MS)
      f.push(`body "${b.name}": /healthz took ${b.healthzMaxMs} ms (limit ${BODY_HEALTHZ_LIMIT_MS})`);
  }
  if (random.answered5xx > 0) f.push(`random URLs: ${random.answered5xx} answered 5xx`);
  if (random.newSeries > NEW_SERIES_LIMIT) f.push(`random URLs: ${random.newSeries} new series per family (limit ${NEW_SERIES_LIMIT})`);
  if (kill.acknowledged === 0 || kill.present !== kill.acknowledged)
    f.push(`kill -9: ${kill.present} of ${kill.acknowledged} acknowledged writes present`);
  if (sigterm.failed > 0 || sigterm.reset > 0 || sigterm.exitCode !== 0)
    f.push(`SIGTERM: ${sigterm.failed} failed, ${sigterm.reset} reset, exit ${sigterm.exitCode}`);
  if (flood.peakRssMb - flood.rssBeforeMb > FLOOD_GROWTH_LIMIT_MB)
    f.push(`flood: RSS grew ${flood.peakRssMb - flood.rssBeforeMb} MB (limit ${FLOOD_GROWTH_LIMIT_MB})`);
  if (flood.healthzMaxMs > HEALTHZ_LIMIT_MS) f.push(`flood: /healthz took ${flood.healthzMaxMs} ms (limit ${HEALTHZ_LIMIT_MS})`);
  const errors = Object.entries(flood.statuses).filter(([s]) => Number(s) >= 500 && s !== '503');
  if (errors.length > 0) f.push(`flood: answered ${errors.map(([s, n]) => `${n} × ${s}`).join(', ')}`);
  if (slow.timedOut < slow.held) f.push(`slow clients: ${slow.held - slow.timedOut} of ${slow.held} still held`);
  if (slow.othersMaxMs > OTHERS_LIMIT_MS) f.push(`slow clients: others waited ${slow.othersMaxMs} ms (limit ${OTHERS_LIMIT_MS})`);
  return f;
}

async function runStore(store: 'pglite' | 'postgres', entry: string, sizes: Sizes, databaseUrl: string | undefined): Promise<StoreReport> {
  const dir = mkdtempSync(join(tmpdir(), `reliability-${store}-`));
  const db = store === 'postgres' ? await scratchDatabase(databaseUrl!, 'reliability') : undefined;
  const env = { ...sizes.env, ...(db === undefined ? { DATA_DIR: join(dir, 'data') } : { DATABASE_URL: db.url }) };
  const options: TargetOptions = { entry, env };
  try {
    const target = await startTarget(options);
    let hostile: HostileResult, bodies: BodyResult[], random: RandomUrlResult, flood: FloodResult, slow: SlowResult;
    try {
      log(`[${store}] hostile input: ${sizes.hostile} requests`);
      hostile = await hostileInput(target, sizes.hostile);
      log(`[${store}] amplifying bodies`);
      bodies = await amplifyingBodies(target, sizes.bodyTimeoutMs);
      log(`[${store}] random URLs: ${sizes.randomUrls}`);
      random = await randomUrls(target, sizes.randomUrls);
      log(`[${store}] pipelining flood: ${sizes.floodSockets} sockets × ${sizes.floodPerSocket}`);
      await seed(target, 100);
      flood = await pipelineFlood(target, sizes.floodSockets, sizes.floodPerSocket, sizes.floodHoldMs, sizes.floodHoldMs + 5_000);
      log(`[${store}] slow clients: ${sizes.slowClients}`);
      slow = await slowClients(target, sizes.slowClients, sizes.slowLimitMs);
    } finally {
      await target.stop('SIGKILL');
    }
    log(`[${store}] kill -9 during writes: ${sizes.killRounds} rounds`);
    const kill = await killDuringWrites(options, sizes.killRounds, sizes.killWriteMs);
    log(`[${store}] SIGTERM under ${sizes.sigtermConnections} keep-alive connections`);
    const sigterm = await sigtermUnderKeepAlive(options, sizes.sigtermConnections);
    const report = { store, hostile, bodies, random, kill, sigterm, flood, slow };
    return { ...report, failures: check(report) };
  } finally {
    await db?.drop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

function table(reports: StoreReport[]): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const rows: [string, (r: StoreReport) => string][] = [
    [
      'hostile requests tried / answered 5xx / 5xx in /metrics',
      (r) => `${n(r.hostile.tried)} / ${n(r.hostile.answered5xx)} / ${n(r.hostile.counted5xx)}`,
    ],
    ...(reports[0]?.bodies ?? []).map((b, i): [string, (r: StoreReport) => string] => [
      `body: ${b.name} (${n(Math.round(b.requestBytes / 1024))} kB): status, answer bytes, ms, slowest /healthz ms`,
      (r) => {
        const x = r.bodies[i]!;
        return `${x.status || 'none'}, ${n(x.responseBytes)}, ${n(x.ms)}, ${n(x.healthzMaxMs)}`;
      },
    ]),
    [
      'random URLs / answered 5xx / new series per family',
      (r) => `${n(r.random.tried)} / ${n(r.random.answered5xx)} / ${r.random.newSeries}`,
    ],
    [
      'kill -9 rounds / writes acknowledged / present after restart',
      (r) => `${r.kill.rounds} / ${n(r.kill.acknowledged)} / ${n(r.kill.present)}`,
    ],
    [
      'SIGTERM keep-alive connections / failed / reset (drain ms)',
      (r) => `${r.sigterm.connections} / ${r.sigterm.failed} / ${r.sigterm.reset} (${Math.round(r.sigterm.drainMs)})`,
    ],
    [
      'flood sockets × requests: RSS before / peak / after (MB)',
      (r) =>
        `${r.flood.sockets} × ${n(r.flood.requests / r.flood.sockets)}: ${r.flood.rssBeforeMb} / ${r.flood.peakRssMb} / ${r.flood.rssAfterMb}`,
    ],
    [
      'flood: slowest /healthz (ms); answers read',
      (r) =>
        `${n(r.flood.healthzMaxMs)}; ${
          Object.entries(r.flood.statuses)
            .map(([s, c]) => `${n(c)} × ${s}`)
            .join(', ') || 'none'
        }`,
    ],
    [
      "slow clients held / timed out (longest held ms; others' slowest ms)",
      (r) => `${r.slow.held} / ${r.slow.timedOut} (${n(r.slow.maxHeldMs)}; ${n(r.slow.othersMaxMs)})`,
    ],
    ['verdict', (r) => (r.failures.length === 0 ? 'pass' : `FAIL (${r.failures.length})`)],
  ];
  const head = `| scenario | ${reports.map((r) => (r.store === 'pglite' ? 'embedded (PGlite)' : 'PostgreSQL')).join(' | ')} |`;
  const sep = `|---|${reports.map(() => '---').join('|')}|`;
  return [head, sep, ...rows.map(([label, cell]) => `| ${label} | ${reports.map(cell).join(' | ')} |`)].join('\n');
}

async function main(): Promise<void> {
  killChildrenOnSignal();
  const { values } = parseArgs({
    options: {
      short: { type: 'boolean', default: false },
      server: { type: 'string' },
      stores: { type: 'string', default: 'pglite,postgres' },
      'database-url': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const sizes = values.short ? SHORT : FULL;
  const entry = values.server ?? API_ENTRY;
  const databaseUrl = values['database-url'] ?? (process.env.TEST_DATABASE_URL || undefined);
  const stores = values.stores.split(',').map((s) => s.trim()) as ('pglite' | 'postgres')[];
  const failures: string[] = [];
  if (stores.includes('postgres') && databaseUrl === undefined) {
    const message = 'PostgreSQL store not tested: pass --database-url or set TEST_DATABASE_URL';
    if (process.env.CI) failures.push(message);
    log(`\n*** SKIPPED: ${message} ***\n`);
    stores.splice(stores.indexOf('postgres'), 1);
  }
  const started = Date.now();
  log(`reliability${values.short ? ' (short)' : ''}: ${entry} on ${stores.join(' and ')}`);
  const reports: StoreReport[] = [];
  for (const store of stores) reports.push(await runStore(store, entry, sizes, databaseUrl));
  process.stdout.write(`\n${table(reports)}\n\n`);
  for (const r of reports) for (const f of r.failures) failures.push(`${r.store}: ${f}`);
  for (const f of failures) process.stdout.write(`FAIL ${f}\n`);
  process.stdout.write(
    `${failures.length === 0 ? 'all scenarios passed' : `${failures.length} failed`} in ${Math.round((Date.now() - started) / 1000)} s\n`,
  );
  if (values.json) process.stdout.write(`${JSON.stringify({ reports, failures })}\n`);
  process.exit(failures.length === 0 ? 0 : 1);
}

runMain('reliability', main, 2);
