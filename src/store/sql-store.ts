/** The items store in PostgreSQL's dialect, shared by the embedded and the server back end. */
import type { SqlDriver } from './driver';
import { migrate } from './migrations';
import type { Item, ItemInput, ItemPage, ItemPatch, ItemStore, ListOptions } from './types';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The item columns every query returns (the benchmark's reference app reads the same). */
export const COLUMNS = 'seq::text AS seq, id::text AS id, name, description, tags, created_at, updated_at';

export interface ItemRow {
  [column: string]: unknown;
  seq: string;
  id: string;
  name: string;
  description: string | null;
  tags: string[];
  created_at: Date | string;
  updated_at: Date | string;
}

function toItem(row: ItemRow): Item {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    tags: row.tags,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

export class SqlItemStore implements ItemStore {
  private constructor(private readonly db: SqlDriver) {}

  get kind(): ItemStore['kind'] {
    return this.db.kind;
  }

  /** Wraps an open driver, applying pending migrations first. */
  static async open(db: SqlDriver): Promise<SqlItemStore> {
    await migrate(db);
    return new SqlItemStore(db);
  }

  async create(input: ItemInput): Promise<Item> {
    const rows = await this.db.query<ItemRow>(`INSERT INTO items (name, description, tags) VALUES ($1, $2, $3) RETURNING ${COLUMNS}`, [
      input.name,
      input.description ?? null,
      input.tags ?? [],
    ]);
    return toItem(rows[0]!);
  }

  async get(id: string): Promise<Item | undefined> {
    if (!UUID.test(id)) return undefined;
    const rows = await this.db.query<ItemRow>(`SELECT ${COLUMNS} FROM items WHERE id = $1`, [id]);
    return rows[0] && toItem(rows[0]);
  }

  async list({ limit, after }: ListOptions): Promise<ItemPage> {
    const rows = await this.db.query<ItemRow>(`SELECT ${COLUMNS} FROM items WHERE items.seq > $1 ORDER BY items.seq LIMIT $2`, [
      String(after ?? 0n),
      limit + 1,
    ]);
    const page = rows.slice(0, limit);
    return {
      items: page.map(toItem),
      ...(rows.length > limit && { next: BigInt(page[page.length - 1]!.seq) }),
    };
  }

  async replace(id: string, input: ItemInput): Promise<Item | undefined> {
    if (!UUID.test(id)) return undefined;
    const rows = await this.db.query<ItemRow>(
      `UPDATE items SET name = $2, description = $3, tags = $4, updated_at = now()
       WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, input.name, input.description ?? null, input.tags ?? []],
    );
    return rows[0] && toItem(rows[0]);
  }

  async update(id: string, patch: ItemPatch): Promise<Item | undefined> {
    if (!UUID.test(id)) return undefined;
    const sets: string[] = [];
    const params: unknown[] = [id];
    const set = (column: string, value: unknown): void => {
      params.push(value);
      sets.push(`${column} = $${params.length}`);
    };
    if (patch.name !== undefined) set('name', patch.name);
    if (patch.description !== undefined) set('description', patch.description);
    if (patch.tags !== undefined) set('tags', patch.tags);
    const rows = await this.db.query<ItemRow>(
      `UPDATE items SET ${[...sets, 'updated_at = now()'].join(', ')} WHERE id = $1 RETURNING ${COLUMNS}`,
      params,
    );
    return rows[0] && toItem(rows[0]);
  }

  async delete(id: string): Promise<boolean> {
    if (!UUID.test(id)) return false;
    const rows = await this.db.query('DELETE FROM items WHERE id = $1 RETURNING id', [id]);
    return rows.length > 0;
  }

  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
