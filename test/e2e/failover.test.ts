/**
 * The API through a primary switch, on a real PostgreSQL of the test's own stopped and
 * restarted (same data directory, same port: what the `-rw` Service of a CloudNativePG cluster
 * looks like to a client while the operator promotes a replica) under a steady write load.
 * Every answer is counted by status: during the outage writes answer 503 store_unavailable with
 * Retry-After and nothing else of the 5xx; the API reconnects by itself; every write it
 * acknowledged (201) is there afterwards. Prints the counts and the recovery time.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Managed } from '../../tools/lib/processes';
import { PgServer, postgresBinDir } from '../../tools/lib/pg-server';
import { freePort, startApi, waitFor } from '../../tools/lib/processes';
import { requireInCi } from '../helpers/manifests';

const HAVE = postgresBinDir() !== undefined;
requireInCi('the failover test', HAVE, 'apt-get install postgresql');

jest.setTimeout(180_000);

/** Writers at once, and the pause each takes between its requests: a steady load, not a flood. */
const WRITERS = 4;
const PACE_MS = 25;

interface Answer {
  readonly at: number;
  readonly status: number;
  readonly code?: string;
  readonly retryAfter: string | null;
  readonly id?: string;
  readonly name: string;
}

(HAVE ? describe : describe.skip)('a primary switch under a steady write load', () => {
  let pg: PgServer;
  let api: Managed | undefined;

  beforeAll(async () => {
    pg = new PgServer(await freePort());
    await pg.start();
    api = await startApi(await freePort(), { DATABASE_URL: pg.url, LOG_LEVEL: 'error', DB_POOL_WAIT_MS: '1000' });
  });
  afterAll(async () => {
    await api?.stop('SIGKILL');
    await pg.destroy();
  });

  it('answers 503 store_unavailable with Retry-After meanwhile, reconnects by itself and loses no acknowledged write', async () => {
    const url = api!.url;
    const answers: Answer[] = [];
    const failures: string[] = [];
    let running = true;
    let n = 0;
    const writer = async () => {
      while (running) {
        const name = `item ${n++}`;
        try {
          const res = await fetch(`${url}/api/items`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ name }),
          });
          const body = (await res.json()) as { id?: string; code?: string };
          answers.push({
            at: Date.now(),
            status: res.status,
            code: body.code,
            retryAfter: res.headers.get('retry-after'),
            id: body.id,
            name,
          });
        } catch (err) {
          failures.push(`${name}: ${(err as Error).message}`);
        }
        await sleep(PACE_MS);
      }
    };
    const created = (since: number) => answers.filter((a) => a.status === 201 && a.at > since).length;
    const writers = Array.from({ length: WRITERS }, writer);

    try {
      await waitFor('20 writes acknowledged before the switch', () => (created(0) >= 20 ? true : undefined), 30_000, 50);
      const stoppedAt = Date.now();
      await pg.stop();
      await waitFor('5 writes refused while no primary runs', () =>
        answers.filter((a) => a.at > stoppedAt && a.status === 503).length >= 5 ? true : undefined,
      );
      const restartedAt = Date.now();
      await pg.start();
      const firstOk = await waitFor(
        'a write acknowledged after the restart',
        () => answers.find((a) => a.at > restartedAt && a.status === 201),
        60_000,
        20,
      );
      await waitFor('20 more writes acknowledged', () => (created(firstOk.at) >= 20 ? true : undefined), 30_000, 50);
      running = false;
      await Promise.all(writers);

      const byStatus = Object.fromEntries(
        [...new Set(answers.map((a) => a.status))].sort().map((s) => [s, answers.filter((a) => a.status === s).length]),
      );
      const refused = answers.filter((a) => a.status === 503);
      process.stdout.write(
        `\nfailover (primary stopped ${restartedAt - stoppedAt} ms, ${WRITERS} writers every ${PACE_MS} ms):\n` +
          `  ${answers.length} writes: ${JSON.stringify(byStatus)}; first 201 ${firstOk.at - restartedAt} ms after the restart\n`,
      );

      expect(failures).toEqual([]);
      expect(Object.keys(byStatus).sort()).toEqual(['201', '503']);
      expect(refused.every((a) => a.code === 'store_unavailable' && /^\d+$/.test(a.retryAfter ?? ''))).toBe(true);
      // No write before the stop or after the first success was refused: the pool dropped its dead connections.
      expect(refused.filter((a) => a.at < stoppedAt || a.at > firstOk.at + 2_000)).toEqual([]);

      const acknowledged = answers.filter((a) => a.status === 201);
      const lost: string[] = [];
      for (const a of acknowledged) {
        const res = await fetch(`${url}/api/items/${a.id}`);
        const item = (await res.json()) as { name?: string };
        if (res.status !== 200 || item.name !== a.name) lost.push(`${a.id} (${a.name}): ${res.status}`);
      }
      process.stdout.write(`  ${acknowledged.length} acknowledged writes read back, lost: ${lost.length}\n`);
      expect(lost).toEqual([]);
    } finally {
      running = false;
      await Promise.all(writers);
    }
  });
});
