/**
 * Readiness against a PostgreSQL server this suite starts and stops itself: the server process
 * starts before its database, listens and reports not ready, becomes ready when the database
 * comes up, goes unready when it stops and ready again after a restart. `rest_api_ready` follows
 * on the separate metrics listener, which keeps answering throughout.
 */
import { rm } from 'node:fs/promises';
import { METRIC } from '../../src/contract';
import { freePort, startServer, waitFor } from '../../tools/lib/processes';
import type { Managed } from '../../tools/lib/processes';
import { PgServer, postgresBinDir } from '../../tools/lib/pg-server';
import { json, tempDir } from '../helpers/app';
import { parseExposition, valueOf } from '../helpers/exposition';
import { requireInCi } from '../helpers/manifests';

const HAVE = postgresBinDir() !== undefined;
requireInCi('the readiness tests on a PostgreSQL server of their own', HAVE, 'install PostgreSQL: apt-get install postgresql');
const describePg = HAVE ? describe : describe.skip;

jest.setTimeout(90_000);

async function gauge(metricsUrl: string, accept?: string): Promise<number> {
  const res = await fetch(metricsUrl, accept === undefined ? {} : { headers: { accept } });
  expect(res.status).toBe(200);
  return valueOf(parseExposition(await res.text()), METRIC.ready);
}

describePg('readiness on a PostgreSQL server that comes and goes', () => {
  let pg: PgServer;
  let server: Managed | undefined;
  let dataDir: string;

  beforeAll(async () => {
    pg = new PgServer(await freePort());
    dataDir = await tempDir('readiness');
  });
  afterAll(async () => {
    await server?.stop('SIGKILL');
    await pg.destroy();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('listens before its database is up, becomes ready when it is, and follows it down and up', async () => {
    server = await startServer({ DATABASE_URL: pg.url, METRICS_PORT: '0', DATA_DIR: dataDir }, { waitForStore: false });
    const [, metricsPort] = await server.waitForOutput(/"port":(\d+)[^\n]*"msg":"metrics on/, 30_000);
    const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;

    // No database yet: listening, not ready, API requests answer 503 with Retry-After.
    const notReady = await fetch(`${server.url}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await json(notReady)).toMatchObject({ code: 'unavailable', detail: 'store not open yet' });
    expect(await gauge(metricsUrl)).toBe(0);
    expect(await gauge(metricsUrl, 'application/openmetrics-text; version=1.0.0')).toBe(0);
    const early = await fetch(`${server.url}/api/items`);
    expect(early.status).toBe(503);
    expect(early.headers.get('retry-after')).toBe('5');
    expect(await json(early)).toMatchObject({ code: 'store_unavailable' });

    await pg.start();
    await waitFor(
      'ready once the database is up',
      async () => ((await fetch(`${server!.url}/readyz`)).status === 200 ? true : undefined),
      40_000,
    );
    expect(await gauge(metricsUrl)).toBe(1);
    expect((await fetch(`${server.url}/api/items`)).status).toBe(200);

    await pg.stop();
    await waitFor('unready once the database stops', async () => ((await gauge(metricsUrl)) === 0 ? true : undefined), 20_000);
    const down = await fetch(`${server.url}/readyz`);
    expect(down.status).toBe(503);
    expect(await json(down)).toMatchObject({ detail: 'store unreachable' });
    const failing = await fetch(`${server.url}/api/items`);
    expect(failing.status).toBe(503);
    expect(await json(failing)).toMatchObject({ code: 'store_unavailable' });

    await pg.start();
    await waitFor('ready again after the restart', async () => ((await gauge(metricsUrl)) === 1 ? true : undefined), 20_000);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    expect((await fetch(`${server.url}/api/items`)).status).toBe(200);

    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(server.output()).toContain('store not reachable yet; retrying');
  });
});
