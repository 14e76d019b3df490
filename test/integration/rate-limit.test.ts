import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { authSetup } from '../../src/auth';
import { METRIC } from '../../src/contract';
import { json, startApp, tempDir } from '../helpers/app';
import type { Problem, RunningApp } from '../helpers/app';
import { scrape, valueOf } from '../helpers/exposition';

const silent = pino({ level: 'silent' });
const newKey = (): string => randomBytes(32).toString('hex');

let owner: RunningApp;
let dir: string;
beforeAll(async () => {
  owner = await startApp();
  dir = await tempDir('rate-limit');
}, 120_000); // opening the embedded store can take half a minute on a busy machine
afterAll(async () => {
  await owner.close();
  await rm(dir, { recursive: true, force: true });
});

describe('per-caller rate limit', () => {
  // A window of 10 s (burst 10 at 1 per second) holds the whole flood, so the counts are exact.
  const BURST = 10;
  let app: RunningApp;
  let keyA: string;
  let keyB: string;
  beforeAll(async () => {
    [keyA, keyB] = [newKey(), newKey()];
    await writeFile(join(dir, 'keys'), `${keyA}\n${keyB}\n`);
    const auth = authSetup({ mode: 'api-key', reads: 'open', apiKeysFile: join(dir, 'keys') }, silent);
    app = await startApp({ store: owner.store, auth, rateLimit: { rps: 1, burst: BURST, authFailuresPerMinute: 30 } });
  });
  afterAll(() => app.close());

  it('answers a flood from one caller 429 past its burst, with Retry-After and the RateLimit headers, and no 5xx', async () => {
    const flood = await Promise.all(
      Array.from({ length: 60 }, async () => {
        const res = await fetch(`${app.url}/api/items?limit=1`, { headers: { authorization: `Bearer ${keyA}` } });
        return { res, body: await res.text() };
      }),
    );
    const statuses = flood.map((f) => f.res.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(BURST);
    expect(statuses.filter((s) => s === 429)).toHaveLength(60 - BURST);

    const limited = flood.find((f) => f.res.status === 429)!;
    const retryAfter = Number(limited.res.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(10);
    expect(limited.res.headers.get('ratelimit-policy')).toMatch(/^"caller"; q=10; w=10; pk=:[A-Za-z0-9+/=]+:$/);
    expect(limited.res.headers.get('ratelimit')).toMatch(/^"caller"; r=0; t=(\d+)$/);
    expect(JSON.parse(limited.body)).toMatchObject({ status: 429, code: 'rate_limited', title: 'Too many requests' });

    const served = flood.find((f) => f.res.status === 200)!;
    expect(served.res.headers.get('ratelimit')).toMatch(/^"caller"; r=\d; t=\d+$/);

    // Another caller from the same address has its own budget.
    expect((await fetch(`${app.url}/api/items?limit=1`, { headers: { authorization: `Bearer ${keyB}` } })).status).toBe(200);

    const exp = await scrape(app.url);
    expect(valueOf(exp, METRIC.requestsTotal, { method: 'GET', endpoint: '/api/items', status: '429' })).toBe(60 - BURST);
    expect(valueOf(exp, METRIC.requests4xx, { method: 'GET', endpoint: '/api/items' })).toBe(60 - BURST);
    expect(valueOf(exp, METRIC.requests5xx)).toBe(0);
  });
});

describe('anonymous callers are limited by client address', () => {
  const probe = async (app: RunningApp, forwardedFor: string) =>
    (await fetch(`${app.url}/api/items?limit=1`, { headers: { 'x-forwarded-for': forwardedFor } })).status;

  it('behind TRUST_PROXY_HOPS=1, by the address the proxy appended', async () => {
    const app = await startApp({ store: owner.store, trustProxyHops: 1, rateLimit: { rps: 0.1, burst: 2, authFailuresPerMinute: 0 } });
    try {
      expect([await probe(app, '203.0.113.7'), await probe(app, '203.0.113.7'), await probe(app, '203.0.113.7')]).toEqual([200, 200, 429]);
      // A client cannot pick its address: only the last hop (the proxy's view) counts.
      expect(await probe(app, '198.51.100.1, 203.0.113.7')).toBe(429);
      expect(await probe(app, '203.0.113.8')).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('without trusted proxies, by the socket address whatever X-Forwarded-For says', async () => {
    const app = await startApp({ store: owner.store, rateLimit: { rps: 0.1, burst: 2, authFailuresPerMinute: 0 } });
    try {
      const statuses = [await probe(app, '203.0.113.1'), await probe(app, '203.0.113.2'), await probe(app, '203.0.113.3')];
      expect(statuses).toEqual([200, 200, 429]);
      const res = await fetch(`${app.url}/api/items`, { headers: { 'x-forwarded-for': '203.0.113.4' } });
      expect(await json<Problem>(res)).toMatchObject({ code: 'rate_limited', detail: 'more than 2 requests in 20 s from this caller' });
    } finally {
      await app.close();
    }
  });
});
