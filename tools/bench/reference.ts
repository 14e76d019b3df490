/**
 * The yardstick of the real app: what Express 5 and the same driver do with the same routes, the
 * same table and SQL and the same JSON, and nothing else (no validation, metrics, logging or
 * problem details). `node reference.js <pglite|postgres> <port> <data directory | database URL>`;
 * prints "ready <port>" once it listens and its table exists.
 */
import { createServer } from 'node:http';
import express from 'express';
import type { Request, Response } from 'express';
import { PGlite } from '@electric-sql/pglite';
import { Pool } from 'pg';
import { MIGRATIONS } from '../../src/store/migrations';
import { COLUMNS } from '../../src/store/sql-store';
import type { ItemRow as Row } from '../../src/store/sql-store';
import { runMain } from '../lib/main';

type Query = (sql: string, params: unknown[]) => Promise<Row[]>;

/** The project's own pool size (DB_POOL_MAX's default), so both hold as many connections. */
const POOL_MAX = 10;

const toItem = (row: Row) => ({
  id: row.id,
  name: row.name,
  description: row.description,
  tags: row.tags,
  createdAt: new Date(row.created_at).toISOString(),
  updatedAt: new Date(row.updated_at).toISOString(),
});

async function open(kind: string, where: string): Promise<Query> {
  if (kind === 'pglite') {
    const db = await PGlite.create({ dataDir: where });
    return async (sql, params) => (await db.query<Row>(sql, params)).rows;
  }
  const pool = new Pool({ connectionString: where, max: POOL_MAX });
  return async (sql, params) => (await pool.query<Row>(sql, params)).rows;
}

function routes(query: Query): express.Express {
  const app = express();
  app.use(express.json());
  const one = (res: Response, rows: Row[]) => {
    if (rows[0] === undefined) res.status(404).json({ code: 'item_not_found' });
    else res.json(toItem(rows[0]));
  };
  app.post('/api/items', async (req: Request<unknown, unknown, { name: string; description?: string; tags?: string[] }>, res) => {
    const { name, description, tags } = req.body;
    const rows = await query(`INSERT INTO items (name, description, tags) VALUES ($1, $2, $3) RETURNING ${COLUMNS}`, [
      name,
      description ?? null,
      tags ?? [],
    ]);
    res.status(201).location(`/api/items/${rows[0]!.id}`).json(toItem(rows[0]!));
  });
  app.get('/api/items', async (req, res) => {
    const limit = Number(req.query.limit ?? 20);
    const after = typeof req.query.cursor === 'string' ? Buffer.from(req.query.cursor, 'base64url').toString() : '0';
    const rows = await query(`SELECT ${COLUMNS} FROM items WHERE items.seq > $1 ORDER BY items.seq LIMIT $2`, [after, limit + 1]);
    const page = rows.slice(0, limit);
    const next = rows.length > limit ? Buffer.from(page[page.length - 1]!.seq).toString('base64url') : null;
    res.json({ items: page.map(toItem), nextCursor: next });
  });
  app.get('/api/items/:id', async (req, res) => one(res, await query(`SELECT ${COLUMNS} FROM items WHERE id = $1`, [req.params.id])));
  app.put('/api/items/:id', async (req: Request<{ id: string }, unknown, { name: string; description?: string; tags?: string[] }>, res) => {
    const { name, description, tags } = req.body;
    const sql = `UPDATE items SET name = $2, description = $3, tags = $4, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`;
    one(res, await query(sql, [req.params.id, name, description ?? null, tags ?? []]));
  });
  app.patch('/api/items/:id', async (req: Request<{ id: string }, unknown, Record<string, unknown>>, res) => {
    const sets: string[] = [];
    const params: unknown[] = [req.params.id];
    for (const column of ['name', 'description', 'tags']) {
      if (req.body[column] === undefined) continue;
      params.push(req.body[column]);
      sets.push(`${column} = $${params.length}`);
    }
    const sql = `UPDATE items SET ${[...sets, 'updated_at = now()'].join(', ')} WHERE id = $1 RETURNING ${COLUMNS}`;
    one(res, await query(sql, params));
  });
  app.delete('/api/items/:id', async (req, res) => {
    const rows = await query('DELETE FROM items WHERE id = $1 RETURNING id', [req.params.id]);
    if (rows.length === 0) res.status(404).json({ code: 'item_not_found' });
    else res.status(204).end();
  });
  return app;
}

async function main(): Promise<void> {
  const [kind = 'pglite', port = '0', where = '/tmp/bench-reference'] = process.argv.slice(2);
  const query = await open(kind, where);
  await query(MIGRATIONS[0]!.sql.replace('CREATE TABLE items', 'CREATE TABLE IF NOT EXISTS items'), []);
  const server = createServer(routes(query));
  server.listen(Number(port), '127.0.0.1', () => process.stdout.write(`ready ${(server.address() as { port: number }).port}\n`));
  process.on('SIGTERM', () => process.exit(0));
}

if (require.main === module) runMain('bench reference', main);
