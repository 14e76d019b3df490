/**
 * PostgreSQL over TLS, against a real server of our own with ssl=on that admits TCP clients over
 * TLS only, with a password, and certificates made at test time (test/helpers/tls.ts).
 */
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { Client } from 'pg';
import { PgServer, postgresBinDir } from '../../tools/lib/pg-server';
import { freePort, startServer } from '../../tools/lib/processes';
import type { Managed } from '../../tools/lib/processes';
import { makeTestPki } from '../helpers/tls';
import type { TestPki } from '../helpers/tls';

const bin = postgresBinDir();
const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const runnable = bin !== undefined && hasOpenssl;
if (!runnable) {
  const why = bin === undefined ? 'no PostgreSQL server binaries (apt-get install postgresql)' : 'no openssl';
  if (process.env.CI) throw new Error(`CI must run the PostgreSQL TLS suite: ${why}`);
  process.stderr.write(`\n*** SKIPPED: the PostgreSQL TLS suite: ${why} ***\n\n`);
}

const PASSWORD = `tls-${randomBytes(9).toString('base64url')}`;

(runnable ? describe : describe.skip)('PostgreSQL over TLS (sslmode=verify-full)', () => {
  let pki: TestPki;
  let pg: PgServer;
  const servers: Managed[] = [];

  beforeAll(async () => {
    pki = makeTestPki();
    pg = new PgServer(await freePort(), bin, { tls: { cert: pki.serverCert, key: pki.serverKey }, password: PASSWORD });
    await pg.start();
  }, 120_000);
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await pg?.destroy();
    pki?.remove();
  });

  /** The server's URL (with the password) and these query parameters. */
  function url(params: Record<string, string>): string {
    const u = new URL(pg.url);
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
    return u.toString();
  }

  it('is refused without TLS: the test server admits TLS only', async () => {
    const client = new Client({ connectionString: url({ sslmode: 'disable' }) });
    await expect(client.connect()).rejects.toThrow(/no pg_hba.conf entry|rejects connection/);
  });

  it('connects with the right CA and the server’s name checked (node-postgres directly)', async () => {
    const client = new Client({ connectionString: url({ sslmode: 'verify-full', sslrootcert: pki.caFile }) });
    await client.connect();
    try {
      const { rows } = await client.query<{ ssl: boolean; version: string }>(
        'SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
      );
      expect(rows[0]?.ssl).toBe(true);
      expect(rows[0]?.version).toMatch(/^TLSv1\.[23]$/);
    } finally {
      await client.end();
    }
  });

  it('serves the API with DATABASE_CA_FILE: the store opens over verify-full', async () => {
    const server = await startServer({ DATABASE_URL: pg.url, DATABASE_CA_FILE: pki.caFile });
    servers.push(server);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    const created = await fetch(`${server.url}/api/items`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'over TLS' }),
    });
    expect(created.status).toBe(201);
    expect(server.output()).not.toContain(PASSWORD);
  });

  it('with a CA that did not sign the server: not ready, 503 not 500, the TLS error logged, the password never printed', async () => {
    const server = await startServer(
      { DATABASE_URL: url({ sslmode: 'verify-full', sslrootcert: pki.otherCaFile }) },
      { waitForStore: false },
    );
    servers.push(server);
    await server.waitForOutput(/store not reachable yet/, 30_000);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
    const res = await fetch(`${server.url}/api/items`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ code: 'store_unavailable' });
    const line = server
      .output()
      .split('\n')
      .find((l) => l.includes('store not reachable yet'));
    expect(line).toMatch(/certificate/i);
    expect(server.output()).not.toContain(PASSWORD);
  });
});
