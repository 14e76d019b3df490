/**
 * The two ways to reach PostgreSQL behind one minimal query interface: PGlite (embedded,
 * in-process, persistent directory) and a `pg` connection pool (a real server).
 */
import { PGlite } from '@electric-sql/pglite';
import { Pool } from 'pg';

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

export async function openPglite(dataDir: string | undefined): Promise<SqlDriver> {
  const db = await PGlite.create(dataDir === undefined ? {} : { dataDir });
  return {
    kind: 'pglite',
    async query<R extends Row>(sql: string, params: readonly unknown[] = []) {
      return (await db.query<R>(sql, [...params])).rows;
    },
    transaction: (fn) =>
      db.transaction((tx) =>
        fn({ query: async <R extends Row>(sql: string, params: readonly unknown[] = []) => (await tx.query<R>(sql, [...params])).rows }),
      ),
    close: () => db.close(),
  };
}

export async function openPostgres(url: string, maxConnections: number): Promise<SqlDriver> {
  const pool = new Pool({ connectionString: url, max: maxConnections, connectionTimeoutMillis: 5_000 });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  const query = async <R extends Row>(sql: string, params: readonly unknown[] = []) =>
    (await pool.query<R>(sql, [...params])).rows;
  await query('SELECT 1');
  return {
    kind: 'postgres',
    query,
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn({
          query: async <R extends Row>(sql: string, params: readonly unknown[] = []) =>
            (await client.query<R>(sql, [...params])).rows,
        });
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
