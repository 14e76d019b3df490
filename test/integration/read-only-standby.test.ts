/**
 * A write that reaches a read-only server — what an old primary answers once a failover has
 * demoted it, until the connection moves to the new primary — is a 503 store_unavailable with
 * Retry-After, never a 500; reads go on; and the API writes again by itself once new connections
 * reach a writable server. A real PostgreSQL is put in that state with
 * `ALTER DATABASE … SET default_transaction_read_only = on` (new sessions only, so the test
 * ends the existing ones, as a failover does).
 */
import { Client } from 'pg';
import { openStore } from '../../src/store';
import type { ItemStore } from '../../src/store';
import { json, postJson, startApp } from '../helpers/app';
import type { Problem, RunningApp } from '../helpers/app';
import { createTestDatabase, requirePostgresInCi, TEST_DATABASE_URL } from '../helpers/postgres';

requirePostgresInCi();
const describePg = TEST_DATABASE_URL === undefined ? describe.skip : describe;

describePg('a database that turns read-only under the API', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let store: ItemStore;
  let app: RunningApp;
  const poolErrors: Error[] = [];

  /** Sets the database's default_transaction_read_only and ends its other sessions, so the pool reconnects under it. */
  async function setReadOnly(on: boolean): Promise<void> {
    const name = new URL(db.url).pathname.slice(1);
    const admin = new Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    try {
      await admin.query(`ALTER DATABASE ${name} ${on ? 'SET default_transaction_read_only = on' : 'RESET default_transaction_read_only'}`);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
    } finally {
      await admin.end();
    }
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    store = await openStore({ databaseUrl: db.url, dataDir: '', dbPoolMax: 2 }, (err) => poolErrors.push(err));
    app = await startApp({ store });
  });
  afterAll(async () => {
    await app.close();
    await store.close();
    await db.drop();
  });

  it('answers writes 503 store_unavailable with Retry-After, serves reads, then writes again once writable', async () => {
    const before = await postJson(`${app.url}/api/items`, { name: 'before' });
    expect(before.status).toBe(201);
    const { id } = await json(before);

    await setReadOnly(true);
    // The first request after the sessions ended may meet a terminated connection (also a 503).
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await postJson(`${app.url}/api/items`, { name: `during ${i}` }));
    for (const res of answers) {
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      expect((await json<Problem>(res)).code).toBe('store_unavailable');
    }
    const last = answers.at(-1)!;
    expect(last.headers.get('retry-after')).toBe('2');
    const read = await fetch(`${app.url}/api/items/${id}`);
    expect(read.status).toBe(200);
    const patch = await fetch(`${app.url}/api/items/${id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'renamed' }),
    });
    expect(patch.status).toBe(503);

    await setReadOnly(false);
    let after = await postJson(`${app.url}/api/items`, { name: 'after' });
    // At most one request meets a connection the server ended; the pool replaces it.
    if (after.status === 503) after = await postJson(`${app.url}/api/items`, { name: 'after' });
    expect(after.status).toBe(201);
  });
});
