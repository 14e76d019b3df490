/**
 * The PostgreSQL pool under pressure: waiting for a connection and running a statement are both
 * bounded, and either limit answers 503 with its own code and Retry-After, never a 500.
 */
import { openPostgres } from '../../src/store/driver';
import type { SqlDriver } from '../../src/store/driver';
import { StoreUnavailableError } from '../../src/store/errors';
import { SqlItemStore } from '../../src/store/sql-store';
import { json, startApp } from '../helpers/app';
import type { RunningApp } from '../helpers/app';
import { createTestDatabase, requirePostgresInCi, TEST_DATABASE_URL } from '../helpers/postgres';

requirePostgresInCi();
const describePg = TEST_DATABASE_URL === undefined ? describe.skip : describe;

describePg('a PostgreSQL pool of one connection', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let driver: SqlDriver;
  let app: RunningApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    driver = await openPostgres(db.url, 1, { poolWaitMs: 100, statementTimeoutMs: 300 });
    app = await startApp({ store: await SqlItemStore.open(driver) });
  });
  afterAll(async () => {
    await app.close();
    await driver.close();
    await db.drop();
  });

  it('cancels a statement that runs past the statement timeout', async () => {
    await expect(driver.query('SELECT pg_sleep(2)')).rejects.toMatchObject({ name: 'StoreUnavailableError', reason: 'timeout' });
  });

  it('answers 503 store_busy with Retry-After when no connection frees up in time', async () => {
    const holder = driver.query('SELECT pg_sleep(0.25)');
    const res = await fetch(`${app.url}/api/items`);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await json(res)).toMatchObject({ code: 'store_busy', status: 503 });
    await holder;
    expect((await fetch(`${app.url}/api/items`)).status).toBe(200);
  });

  it('reports pool waits as busy to the caller', async () => {
    const holder = driver.query('SELECT pg_sleep(0.25)');
    const err = await driver.query('SELECT 1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect(err).toMatchObject({ reason: 'busy' });
    await holder;
  });
});
