/**
 * The two ways to reach PostgreSQL behind one minimal query interface: PGlite (embedded,
 * in-process, persistent directory) and a `pg` connection pool (a real server).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { promisify } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { createRequire } from 'node:module';
import { PGlite } from '@electric-sql/pglite';
import type * as Pg from 'pg';
import { classifyPgError, StoreUnavailableError } from './errors';

export type Row = Record<string, unknown>;

export interface Queryable {
  query<R extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<R[]>;
}

export interface SqlDriver extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Runs `fn` in one transaction on one connection; rolls back if it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * PGlite's settings for a small service. PGlite defaults shared_buffers to 160 MB, inside the
 * Node.js process; with these, a warm process holds about 200 MB instead of 320, and about 240
 * after a load run instead of 380 (README, "Memory of the embedded store"). Durability is not
 * relaxed: every commit is still on disk when it is acknowledged.
 */
export const PGLITE_SETTINGS = ['shared_buffers=8MB', 'wal_buffers=256kB', 'work_mem=1MB', 'maintenance_work_mem=8MB', 'temp_buffers=1MB'];

/**
 * V8 compiles PGlite's busiest WebAssembly functions a second time with its optimizing compiler,
 * as tasks on the platform's worker threads (4 by default). What that compiler allocates and frees
 * stays in the malloc arena of the thread it ran on: 54–84 MB resident after a load run on 2
 * cores, in 4 arenas, out of about 270 MB. One task reuses one arena (about 35 MB) and the same
 * functions are still optimized, a little later. Process-wide, and set before PGlite compiles
 * its module.
 */
export const PGLITE_V8_FLAGS = '--wasm-num-compilation-tasks=1';

/** How long queued PGlite queries may hold the event loop before it gets a turn. */
export const PGLITE_SLICE_MS = 5;

/** The longest a first start's initdb may take. */
const INITDB_TIMEOUT_MS = 120_000;

/**
 * Creates a data directory in a child process. initdb leaves PGlite's WebAssembly memory at
 * 650–800 MB, which a process never gives back; done apart, the server opens a warm directory
 * and stays at its warm size from its first start on.
 */
async function initdbApart(dataDir: string): Promise<void> {
  const pglite = require.resolve('@electric-sql/pglite');
  const script = `const { PGlite } = require(${JSON.stringify(pglite)});
PGlite.create({ dataDir: ${JSON.stringify(dataDir)}, postgresqlconf: ${JSON.stringify(PGLITE_SETTINGS)} }).then((db) => db.close());`;
  await promisify(execFile)(process.execPath, ['-e', script], { timeout: INITDB_TIMEOUT_MS });
}

export async function openPglite(dataDir: string | undefined): Promise<SqlDriver> {
  if (dataDir !== undefined && !existsSync(join(dataDir, 'PG_VERSION'))) await initdbApart(dataDir);
  setFlagsFromString(PGLITE_V8_FLAGS);
  const db = await PGlite.create({ ...(dataDir === undefined ? {} : { dataDir }), postgresqlconf: PGLITE_SETTINGS });
  // PGlite runs each query synchronously on this thread and starts the next queued one from
  // the previous one's promise, so a queue of queries would hold the event loop until it is
  // empty (/healthz stalled for seconds under a flood). Queue them here instead, and give the
  // event loop (I/O included) a turn once queries have held it for a time slice: a turn before
  // every query would cost each query a wait behind every other request's I/O.
  let tail: Promise<unknown> = Promise.resolve();
  let queued = 0;
  let sliceStart = 0;
  const startSlice = () => {
    sliceStart = performance.now();
  };
  const serial = <T>(run: () => Promise<T>): Promise<T> => {
    // An empty queue means the event loop has run since the last query: a new slice begins.
    if (queued++ === 0) startSlice();
    const next = tail
      .then(() => (performance.now() - sliceStart >= PGLITE_SLICE_MS ? yieldToEventLoop().then(startSlice) : undefined))
      .then(run)
      .finally(() => queued--);
    tail = next.catch(() => undefined);
    return next;
  };
  return {
    kind: 'pglite',
    query: <R extends Row>(sql: string, params: readonly unknown[] = []) => serial(async () => (await db.query<R>(sql, [...params])).rows),
    transaction: (fn) =>
      serial(() =>
        db.transaction((tx) =>
          fn({ query: async <R extends Row>(sql: string, params: readonly unknown[] = []) => (await tx.query<R>(sql, [...params])).rows }),
        ),
      ),
    close: () => serial(() => db.close()),
  };
}

/**
 * Distinct statements prepared on each connection; the store's are a few (a PATCH's columns
 * vary), others run unnamed. A bound, because each is kept on every connection of the pool.
 */
const MAX_NAMED_STATEMENTS = 64;

export interface PostgresOptions {
  /** How long a query waits for a free connection (then: StoreUnavailableError busy). @default 2000 */
  readonly poolWaitMs?: number;
  /** `statement_timeout` of every connection, so a hung query cannot hold a request. @default 5000 */
  readonly statementTimeoutMs?: number;
  /** Told about errors of idle connections (the server restarted, the network dropped). */
  readonly onPoolError?: (err: Error) => void;
}

/**
 * `pg`, loaded by the first openPostgres rather than at start: the embedded store's start does not
 * pay the 70–90 ms its module graph takes to load.
 */
const loadPg = (): typeof Pg => createRequire(__filename)('pg') as typeof Pg;

export async function openPostgres(url: string, maxConnections: number, options: PostgresOptions = {}): Promise<SqlDriver> {
  const { Pool } = loadPg();
  const statementTimeoutMs = options.statementTimeoutMs ?? 5_000;
  const pool = new Pool({
    connectionString: url,
    max: maxConnections,
    connectionTimeoutMillis: options.poolWaitMs ?? 2_000,
    statement_timeout: statementTimeoutMs,
    // Client-side bound too: a server that stops answering altogether never sends the cancel.
    query_timeout: statementTimeoutMs + 1_000,
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', (err) => options.onPoolError?.(err));
  // Named statements are parsed and planned once per connection, not on every query.
  const names = new Map<string, string>();
  const nameOf = (sql: string): string | undefined => {
    let name = names.get(sql);
    if (name === undefined && names.size < MAX_NAMED_STATEMENTS) names.set(sql, (name = `s${names.size}`));
    return name;
  };
  const query = async <R extends Row>(sql: string, params: readonly unknown[] = []) => {
    try {
      return (await pool.query<R>({ text: sql, values: [...params], name: nameOf(sql) })).rows;
    } catch (err) {
      throw classifyPgError(err);
    }
  };
  try {
    await query('SELECT 1');
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  return {
    kind: 'postgres',
    query,
    async transaction(fn) {
      const client = await pool.connect().catch((err: unknown) => {
        throw classifyPgError(err);
      });
      let result: Awaited<ReturnType<typeof fn>>;
      try {
        await client.query('BEGIN');
        result = await fn({
          query: async <R extends Row>(sql: string, params: readonly unknown[] = []) => (await client.query<R>(sql, [...params])).rows,
        });
        await client.query('COMMIT');
      } catch (err) {
        const classified = classifyPgError(err);
        // A connection that failed, or one to a server that turned standby, is dropped, not reused:
        // the pool opens a new one, which reaches the new primary.
        const broken = classified instanceof StoreUnavailableError && classified.reason !== 'timeout';
        if (!broken) await client.query('ROLLBACK').catch(() => undefined);
        client.release(broken ? classified : undefined);
        throw classified;
      }
      client.release();
      return result;
    },
    close: () => pool.end(),
  };
}
