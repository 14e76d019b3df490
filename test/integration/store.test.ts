import { rm } from 'node:fs/promises';
import { openPglite, openPostgres } from '../../src/store/driver';
import { migrate, MIGRATIONS } from '../../src/store/migrations';
import { SqlItemStore } from '../../src/store/sql-store';
import type { ItemStore } from '../../src/store';
import { tempDir } from '../helpers/app';
import { createTestDatabase, requirePostgresInCi, TEST_DATABASE_URL } from '../helpers/postgres';

interface Backend {
  /** Opens a store on the same database each time (so reopening shows persistence). */
  open(): Promise<ItemStore>;
  openDriver(): ReturnType<typeof openPglite>;
  cleanup(): Promise<void>;
}

const backends: [string, () => Promise<Backend>][] = [
  [
    'PGlite (embedded)',
    async () => {
      const dir = await tempDir('items-store');
      const openDriver = () => openPglite(dir);
      return {
        openDriver,
        open: async () => SqlItemStore.open(await openDriver()),
        cleanup: () => rm(dir, { recursive: true, force: true }),
      };
    },
  ],
];
if (TEST_DATABASE_URL !== undefined) {
  backends.push([
    'PostgreSQL server',
    async () => {
      const db = await createTestDatabase();
      const openDriver = () => openPostgres(db.url, 5);
      return { openDriver, open: async () => SqlItemStore.open(await openDriver()), cleanup: () => db.drop() };
    },
  ]);
}

it('runs against the PostgreSQL server too (required in CI)', () => {
  requirePostgresInCi();
  expect(backends.length).toBe(TEST_DATABASE_URL === undefined ? 1 : 2);
});

describe.each(backends)('the items store on %s', (_name, makeBackend) => {
  let backend: Backend;
  let store: ItemStore;
  beforeAll(async () => {
    backend = await makeBackend();
    store = await backend.open();
  });
  afterAll(async () => {
    await store.close();
    await backend.cleanup();
  });

  it('creates and reads an item with all its fields', async () => {
    const item = await store.create({ name: 'a', description: 'b', tags: ['x', 'y'] });
    expect(item).toMatchObject({ name: 'a', description: 'b', tags: ['x', 'y'] });
    expect(new Date(item.createdAt).getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(await store.get(item.id)).toEqual(item);
  });

  it('answers undefined, not an error, for unknown and malformed ids', async () => {
    expect(await store.get('00000000-0000-4000-8000-000000000000')).toBeUndefined();
    expect(await store.get("'; SELECT 1; --")).toBeUndefined();
    expect(await store.replace('nope', { name: 'x' })).toBeUndefined();
    expect(await store.update('nope', { name: 'x' })).toBeUndefined();
    expect(await store.delete('nope')).toBe(false);
  });

  it('replaces every field, patches only the given ones, and deletes', async () => {
    const { id } = await store.create({ name: 'a', description: 'b', tags: ['t'] });
    expect(await store.replace(id, { name: 'c' })).toMatchObject({ name: 'c', description: null, tags: [] });
    expect(await store.update(id, { tags: ['u'] })).toMatchObject({ name: 'c', description: null, tags: ['u'] });
    expect(await store.update(id, { description: 'd' })).toMatchObject({ name: 'c', description: 'd', tags: ['u'] });
    expect(await store.update(id, { description: null })).toMatchObject({ description: null });
    const untouched = await store.update(id, {});
    expect(untouched).toMatchObject({ name: 'c', tags: ['u'] });
    expect(await store.delete(id)).toBe(true);
    expect(await store.get(id)).toBeUndefined();
  });

  it('keeps text exactly, including quotes, backslashes, emoji and SQL', async () => {
    const name = "x'); DROP TABLE items; -- \\ 🚀 \u00e9\u0301 \u200b";
    const item = await store.create({ name, tags: ["'", '"', '{}', ',', 'NULL'] });
    expect(await store.get(item.id)).toMatchObject({ name, tags: ["'", '"', '{}', ',', 'NULL'] });
  });

  it('pages in insertion order without gaps or repeats, past 9 and 10', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 23; i++) ids.push((await store.create({ name: `p${i}` })).id);
    const seen: string[] = [];
    let after: bigint | undefined;
    do {
      const page = await store.list({ limit: 4, after });
      seen.push(...page.items.map((i) => i.id));
      after = page.next;
    } while (after !== undefined);
    expect(seen.slice(-23)).toEqual(ids);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('stores 50 concurrent creates', async () => {
    const created = await Promise.all(Array.from({ length: 50 }, (_, i) => store.create({ name: `c${i}` })));
    expect(new Set(created.map((c) => c.id)).size).toBe(50);
    for (const c of created) expect(await store.get(c.id)).toEqual(c);
  });

  it('keeps data across a close and reopen', async () => {
    const item = await store.create({ name: 'durable', tags: ['keep'] });
    await store.close();
    store = await backend.open();
    expect(await store.get(item.id)).toEqual(item);
  });

  it('applies migrations once: reopening applies none', async () => {
    const driver = await backend.openDriver();
    try {
      expect(await migrate(driver)).toEqual([]);
      const versions = await driver.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
      expect(versions.map((v) => v.version)).toEqual(MIGRATIONS.map((m) => m.version));
    } finally {
      await driver.close();
    }
  });

  it('answers ping while open', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
  });
});

(TEST_DATABASE_URL === undefined ? describe.skip : describe)('migrations on a shared PostgreSQL server', () => {
  it('serialise replicas that start at the same time', async () => {
    const db = await createTestDatabase();
    try {
      const drivers = await Promise.all(Array.from({ length: 4 }, () => openPostgres(db.url, 2)));
      const applied = await Promise.all(drivers.map((d) => migrate(d)));
      expect(applied.flat()).toEqual(MIGRATIONS.map((m) => m.version));
      await Promise.all(drivers.map((d) => d.close()));
    } finally {
      await db.drop();
    }
  });
});
