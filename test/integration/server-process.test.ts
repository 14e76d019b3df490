import { Agent } from 'node:http';
import { rm } from 'node:fs/promises';
import { get, json, postJson, startApp, startGet, tempDir, unaccepted } from '../helpers/app';
import type { PendingGet } from '../helpers/app';
import { freePort, runServer, startServer, waitFor } from '../../tools/lib/processes';
import type { Managed } from '../../tools/lib/processes';

/**
 * Resolves once `requests` are written out and the server has accepted their connections: a
 * connection still in the listen backlog would be reset when the listener closes on SIGTERM.
 */
async function inServer(server: Managed, requests: readonly PendingGet[]): Promise<void> {
  await Promise.all(requests.map((r) => r.sent));
  const port = Number(new URL(server.url).port);
  await waitFor('the server to accept every connection', () => (unaccepted(port) === 0 ? true : undefined), 10_000, 5);
}

let dataDir: string;
beforeEach(async () => {
  dataDir = await tempDir('items-server');
});
afterEach(() => rm(dataDir, { recursive: true, force: true }));

describe('the server process', () => {
  it('finishes 50 slow in-flight requests on SIGTERM, refuses new connections and exits 0', async () => {
    const server = await startServer({ DATA_DIR: dataDir, FAULT_INJECTION: 'true', SHUTDOWN_TIMEOUT_MS: '10000' });
    const agent = new Agent({ keepAlive: true, maxSockets: 100 });
    // One idle keep-alive connection: shutdown must close it rather than wait for it.
    expect((await get(`${server.url}/api/items`, agent)).status).toBe(200);

    const inFlight = Array.from({ length: 50 }, () => startGet(`${server.url}/api/items`, agent, { 'x-fault-delay-ms': '1500' }));
    await inServer(server, inFlight);
    const signalled = Date.now();
    server.child.kill('SIGTERM');

    // New connections are refused once the listener has closed. Until then a probe may still be
    // answered, or reset if it was caught in the backlog as the listener closed.
    await waitFor(
      'a new connection to be refused',
      () =>
        get(`${server.url}/healthz`, new Agent()).then(
          () => undefined,
          (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? undefined : err),
        ),
      2_000,
      10,
    ).then((refusal) => expect(refusal).toMatchObject({ code: 'ECONNREFUSED' }));
    const answers = await Promise.all(inFlight.map((r) => r.answer));
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(200));
    expect(await server.exited).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(5_000);
    expect(server.output()).toContain('shutdown complete');
    agent.destroy();
  });

  it('cuts connections still open at SHUTDOWN_TIMEOUT_MS and exits 1', async () => {
    const server = await startServer({ DATA_DIR: dataDir, FAULT_INJECTION: 'true', SHUTDOWN_TIMEOUT_MS: '300' });
    const request = startGet(`${server.url}/api/items`, new Agent(), { 'x-fault-delay-ms': '5000' });
    const slow = request.answer.catch((err: Error) => err);
    await inServer(server, [request]);
    const signalled = Date.now();
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(1);
    expect(Date.now() - signalled).toBeLessThan(2_000);
    expect(await slow).toHaveProperty('code', 'ECONNRESET');
    expect(server.output()).toContain('shutdown timed out');
  });

  it('keeps a created item across a restart on the same data directory', async () => {
    const first = await startServer({ DATA_DIR: dataDir });
    const created = await postJson(`${first.url}/api/items`, { name: 'survivor', tags: ['restart'] });
    expect(created.status).toBe(201);
    const item = await json(created);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = await startServer({ DATA_DIR: dataDir });
    try {
      const res = await fetch(`${second.url}/api/items/${item.id}`);
      expect(res.status).toBe(200);
      expect(await json(res)).toEqual(item);
    } finally {
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    }
  });

  it('serves /metrics on METRICS_PORT only, when set', async () => {
    const server = await startServer({ DATA_DIR: dataDir, METRICS_PORT: '0' });
    try {
      const metricsPort = /"port":(\d+)[^\n]*"msg":"metrics on/.exec(server.output())?.[1];
      expect(metricsPort).toBeDefined();
      await fetch(`${server.url}/api/items`);
      const scrape = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(scrape.headers.get('x-content-type-options')).toBe('nosniff');
      expect(await scrape.text()).toContain('http_requests_total{method="GET",endpoint="/api/items",status="200"} 1');
      expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  it('exports rest_api_ready 1 on the API port, in both formats', async () => {
    const server = await startServer({ DATA_DIR: dataDir });
    try {
      for (const accept of ['text/plain', 'application/openmetrics-text; version=1.0.0']) {
        const text = await (await fetch(`${server.url}/metrics`, { headers: { accept } })).text();
        expect(text).toMatch(/^# TYPE rest_api_ready gauge$/m);
        expect(text).toMatch(/^rest_api_ready 1$/m);
      }
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  it('exports rest_api_ready 0 on METRICS_PORT while draining', async () => {
    const server = await startServer({ DATA_DIR: dataDir, METRICS_PORT: '0', FAULT_INJECTION: 'true' });
    const metricsPort = /"port":(\d+)[^\n]*"msg":"metrics on/.exec(server.output())?.[1];
    const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    expect(await (await fetch(metricsUrl)).text()).toMatch(/^rest_api_ready 1$/m);
    const slow = startGet(`${server.url}/api/items`, new Agent(), { 'x-fault-delay-ms': '1500' });
    await inServer(server, [slow]);
    server.child.kill('SIGTERM');
    await waitFor(
      'the gauge to drop',
      async () => (/^rest_api_ready 0$/m.test(await (await fetch(metricsUrl)).text()) ? true : undefined),
      1_000,
      50,
    );
    expect(await slow.answer).toEqual({ status: 200, connection: 'close' });
    expect(await server.exited).toBe(0);
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT="abc"'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL="loud"'],
    [{ SHUTDOWN_TIMEOUT_MS: '-5' }, 'SHUTDOWN_TIMEOUT_MS="-5"'],
    [{ AUTH_MODE: 'api-key', AUTH_API_KEYS_FILE: '/nonexistent/keys' }, 'AUTH_API_KEYS_FILE="/nonexistent/keys": cannot be read (ENOENT)'],
    [
      { AUTH_MODE: 'jwt', AUTH_ISSUER: 'https://idp.example/', AUTH_AUDIENCE: 'rest-api' },
      'AUTH_JWKS_URL="": is required when AUTH_MODE=jwt',
    ],
    [{ AUTH_MODE: 'jwt', AUTH_JWT_ALGORITHMS: 'HS256' }, 'AUTH_JWT_ALGORITHMS="HS256"'],
  ])('refuses to boot with %j, naming the variable', async (env, named) => {
    const { code, output } = await runServer({ DATA_DIR: dataDir, ...env });
    expect(code).toBe(78);
    expect(output).toContain(named);
  });

  it.each([
    ['that does not parse', 'postgres://app:Pa55/w0rd-secret@db:5432/items'],
    ['of another scheme', 'mysql://app:Pa55w0rd-secret@db/items'],
  ])('refuses a DATABASE_URL %s without printing its password', async (_case, url) => {
    const { code, output } = await runServer({ DATA_DIR: dataDir, DATABASE_URL: url });
    expect(code).toBe(78);
    expect(output).toMatch(/DATABASE_URL="\w+:\/\/app:\*\*\*@/);
    expect(output).not.toMatch(/Pa55|w0rd-secret/);
  });

  it('logs a failing connection without the password', async () => {
    const port = await freePort(); // nothing listens there
    const server = await startServer({ DATABASE_URL: `postgres://app:Pa55w0rd-secret@127.0.0.1:${port}/items` }, { waitForStore: false });
    try {
      const [line] = await server.waitForOutput(/.*store not reachable yet.*/);
      expect(line).toContain('ECONNREFUSED');
      expect(server.output()).not.toContain('Pa55w0rd-secret');
    } finally {
      await server.stop();
    }
  });
});

describe('authentication at boot', () => {
  it('says loudly that writes are open when AUTH_MODE is none (the default)', async () => {
    const server = await startServer({ DATA_DIR: dataDir }, { waitForStore: false });
    try {
      expect(server.output()).toMatch(/"level":40,.*AUTHENTICATION IS OFF \(AUTH_MODE=none\): anyone who can reach this port/);
    } finally {
      await server.stop('SIGKILL');
    }
  });
});

describe('readiness', () => {
  it('answers 503 once shutdown has begun', async () => {
    const app = await startApp();
    try {
      expect((await fetch(`${app.url}/readyz`)).status).toBe(200);
      await app.lifecycle.shutdown([], 1000, () => Promise.resolve());
      const res = await fetch(`${app.url}/readyz`);
      expect(res.status).toBe(503);
      expect(res.headers.get('connection')).toBe('close');
      expect(await json(res)).toMatchObject({ code: 'unavailable', detail: 'shutting down' });
    } finally {
      await app.close();
    }
  });
});
