import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { authSetup } from '../../src/auth';
import { ApiKeys, RELOAD_INTERVAL_MS } from '../../src/auth/api-keys';
import { ConfigError } from '../../src/config';
import { METRIC } from '../../src/contract';
import { json, postJson, startApp, tempDir } from '../helpers/app';
import type { Problem, RunningApp } from '../helpers/app';
import { scrape, valueOf } from '../helpers/exposition';
import { waitFor } from '../../tools/lib/processes';

const silent = pino({ level: 'silent' });
const newKey = (): string => randomBytes(32).toString('hex');
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const CHALLENGE = 'Bearer realm="rest-api"';

/** A logger whose lines the test can read. */
function capturedLogger(): { logger: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

/**
 * A key file laid out as Kubernetes mounts a Secret: `keys` -> `..data/keys`, `..data` -> a
 * timestamped directory; `update` writes a new directory and swaps `..data` atomically.
 */
async function secretVolume(dir: string, keys: readonly string[]) {
  let version = 0;
  const write = async (lines: readonly string[]) => {
    const target = `..${++version}`;
    await mkdir(join(dir, target));
    await writeFile(join(dir, target, 'keys'), `# API keys, one a line\n\n${lines.join('\n')}\n`);
    await symlink(target, join(dir, '..data_tmp'));
    await rename(join(dir, '..data_tmp'), join(dir, '..data'));
  };
  await write(keys);
  await symlink('..data/keys', join(dir, 'keys'));
  return { file: join(dir, 'keys'), update: write };
}

// One embedded store for the file (opening one takes seconds); each test gets its own app.
let owner: RunningApp;
// Opening the embedded store can take half a minute on a busy machine.
beforeAll(async () => {
  owner = await startApp();
}, 120_000);
afterAll(() => owner.close());

/**
 * Runs `test` against an app with one valid API key in a key file, sharing the file's store;
 * the app and the file are gone afterwards.
 */
async function withKeyApp(
  options: { reads: 'open' | 'authenticated'; rateLimit?: { rps: number; burst: number; authFailuresPerMinute: number } },
  test: (app: RunningApp, key: string) => Promise<void>,
): Promise<void> {
  const dir = await tempDir('api-keys');
  const key = newKey();
  await writeFile(join(dir, 'keys'), key);
  const auth = authSetup({ mode: 'api-key', reads: options.reads, apiKeysFile: join(dir, 'keys') }, silent);
  const app = await startApp({ store: owner.store, auth, ...(options.rateLimit && { rateLimit: options.rateLimit }) });
  try {
    await test(app, key);
  } finally {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function status(url: string, init: RequestInit = {}): Promise<number> {
  const res = await fetch(url, init);
  await res.arrayBuffer();
  return res.status;
}

describe('AUTH_MODE=api-key', () => {
  let dir: string;
  let keyA: string;
  let app: RunningApp;
  let items: string;

  beforeAll(async () => {
    dir = await tempDir('api-keys');
    keyA = newKey();
    await writeFile(join(dir, 'keys'), `${keyA}\n`);
    const auth = authSetup({ mode: 'api-key', reads: 'open', apiKeysFile: join(dir, 'keys') }, silent);
    app = await startApp({ store: owner.store, auth, faultInjection: true });
    items = `${app.url}/api/items`;
  });
  afterAll(async () => {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers a write without credentials 401 with WWW-Authenticate, as problem+json', async () => {
    const res = await postJson(items, { name: 'Widget' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(CHALLENGE);
    expect(res.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expect(await json<Problem>(res)).toMatchObject({ status: 401, code: 'unauthenticated', title: 'Authentication required' });
  });

  it.each([
    ['a wrong key', () => `Bearer ${newKey()}`],
    ['the key less its first character', () => `Bearer ${keyA.slice(1)}`],
    ['the key in another scheme', () => `Basic ${keyA}`],
  ])('answers a write with %s 401 invalid_token', async (_what, authorization) => {
    const res = await postJson(items, { name: 'Widget' }, { authorization: authorization() });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="rest-api", error="invalid_token", error_description="[^"]+"$/);
    expect(await json<Problem>(res)).toMatchObject({ code: 'unauthenticated' });
  });

  it('creates with a valid key: 201', async () => {
    const res = await postJson(items, { name: 'Widget' }, bearer(keyA));
    expect(res.status).toBe(201);
    expect(await json(res)).toMatchObject({ name: 'Widget' });
  });

  it.each(['PUT', 'PATCH', 'DELETE'])('answers %s without credentials 401', async (method) => {
    const { id } = await json(await postJson(items, { name: 'Target' }, bearer(keyA)));
    const res = await fetch(`${items}/${id}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: method === 'DELETE' ? undefined : '{"name":"x"}',
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(CHALLENGE);
    expect(await status(`${items}/${id}`)).toBe(200);
  });

  it('keeps reads open, but refuses a wrong key sent on a read', async () => {
    expect(await status(items)).toBe(200);
    expect(await status(items, { headers: bearer(keyA) })).toBe(200);
    expect(await status(items, { headers: bearer(newKey()) })).toBe(401);
  });

  it('honours fault headers only from authenticated callers', async () => {
    expect(await status(items, { headers: { 'x-fault-status': '503' } })).toBe(200);
    expect(await status(items, { headers: { 'x-fault-status': '503', ...bearer(keyA) } })).toBe(503);
  });
});

describe('AUTH_READS=authenticated', () => {
  it('answers reads without credentials 401, with a key 200; probes stay open', async () => {
    await withKeyApp({ reads: 'authenticated' }, async (app, key) => {
      const res = await fetch(`${app.url}/api/items`);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe(CHALLENGE);
      expect(await status(`${app.url}/api/items/00000000-0000-4000-8000-000000000000`)).toBe(401);
      expect(await status(`${app.url}/api/items`, { headers: bearer(key) })).toBe(200);
      expect(await status(`${app.url}/healthz`)).toBe(200);
      expect(await status(`${app.url}/metrics`)).toBe(200);
    });
  });
});

describe('metrics of refused requests', () => {
  it('counts 401 and 429 as 4xx of the matched route, never as 5xx', async () => {
    await withKeyApp({ reads: 'open', rateLimit: { rps: 0, burst: 1, authFailuresPerMinute: 2 } }, async (app) => {
      const items = `${app.url}/api/items`;
      const statuses = [
        (await postJson(items, { name: 'a' })).status,
        (await postJson(items, { name: 'a' }, bearer(newKey()))).status,
        (await postJson(items, { name: 'a' }, bearer(newKey()))).status,
        (await postJson(items, { name: 'a' }, bearer(newKey()))).status,
        await status(`${items}/00000000-0000-4000-8000-000000000000`, { method: 'DELETE' }),
      ];
      expect(statuses).toEqual([401, 401, 401, 429, 401]);
      const exp = await scrape(app.url);
      expect(valueOf(exp, METRIC.requests4xx, { method: 'POST', endpoint: '/api/items' })).toBe(4);
      expect(valueOf(exp, METRIC.requests4xx, { method: 'DELETE', endpoint: '/api/items/:id' })).toBe(1);
      expect(valueOf(exp, METRIC.requestsTotal, { method: 'POST', endpoint: '/api/items', status: '429' })).toBe(1);
      expect(valueOf(exp, METRIC.requests5xx)).toBe(0);
    });
  });
});

describe('failed authentications per client address', () => {
  it('answers 429 with Retry-After once an address has used up its failures, without checking the next credential', async () => {
    await withKeyApp({ reads: 'open', rateLimit: { rps: 0, burst: 1, authFailuresPerMinute: 3 } }, async (app, key) => {
      const items = `${app.url}/api/items`;
      // Successes do not count: a valid caller is not limited by its own requests.
      for (let i = 0; i < 5; i++) expect(await status(items, { headers: bearer(key) })).toBe(200);
      for (let i = 0; i < 3; i++) expect(await status(items, { headers: bearer(newKey()) })).toBe(401);
      const limited = await fetch(items, { headers: bearer(newKey()) });
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(limited.headers.get('ratelimit-policy')).toMatch(/^"auth-failures"; q=3; w=60; pk=:[A-Za-z0-9+/=]+:$/);
      expect(await json<Problem>(limited)).toMatchObject({ status: 429, code: 'rate_limited', title: 'Too many requests' });
      // Past the limit, even the right key is not checked from this address.
      expect(await status(items, { headers: bearer(key) })).toBe(429);
      // An open read without a credential has nothing to guess.
      expect(await status(items)).toBe(200);
    });
  });
});

describe('key rotation without a restart', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir('api-keys');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const accepted = async (url: string, key: string) => (await postJson(url, { name: 'rotation' }, bearer(key))).status === 201;

  it('accepts old and new key during the overlap and refuses the old one once removed (Secret volume, ..data swap)', async () => {
    const [oldKey, nextKey] = [newKey(), newKey()];
    const volume = await secretVolume(dir, [oldKey]);
    const { logger, lines } = capturedLogger();
    const app = await startApp({
      store: owner.store,
      logger,
      auth: authSetup({ mode: 'api-key', reads: 'open', apiKeysFile: volume.file }, logger),
    });
    const items = `${app.url}/api/items`;
    try {
      expect(await accepted(items, oldKey)).toBe(true);
      expect(await accepted(items, nextKey)).toBe(false);

      await volume.update([oldKey, nextKey]);
      await waitFor(
        'the new key to be accepted',
        async () => ((await accepted(items, nextKey)) ? true : undefined),
        10 * RELOAD_INTERVAL_MS,
        100,
      );
      expect(await accepted(items, oldKey)).toBe(true);

      await volume.update([nextKey]);
      await waitFor(
        'the old key to be refused',
        async () => ((await accepted(items, oldKey)) ? undefined : true),
        10 * RELOAD_INTERVAL_MS,
        100,
      );
      expect(await accepted(items, nextKey)).toBe(true);

      // A file emptied by mistake keeps the last good keys, and says so.
      await volume.update([]);
      await waitFor('the empty file to be reported', async () => {
        await accepted(items, nextKey);
        return lines.some((l) => l.includes('API key file invalid: keeping the last keys read')) ? true : undefined;
      });
      expect(await accepted(items, nextKey)).toBe(true);
      // The log names keys by the start of their digest, never by the key.
      expect(lines.some((l) => /"caller":"key:[0-9a-f]{8}".*"statusCode":201/.test(l))).toBe(true);
      expect(lines.join('')).not.toContain(oldKey);
      expect(lines.join('')).not.toContain(nextKey);
    } finally {
      await app.close();
    }
  });

  it('follows a key file replaced by rename, and keeps its keys while the file is gone', async () => {
    const [oldKey, nextKey] = [newKey(), newKey()];
    const file = join(dir, 'keys');
    const replace = async (text: string) => {
      await writeFile(`${file}.tmp`, text);
      await rename(`${file}.tmp`, file);
    };
    await replace(`${oldKey}\n`);
    const { logger, lines } = capturedLogger();
    const app = await startApp({ store: owner.store, auth: authSetup({ mode: 'api-key', reads: 'open', apiKeysFile: file }, logger) });
    const items = `${app.url}/api/items`;
    try {
      await replace(`${nextKey}\n`);
      await waitFor(
        'the old key to be refused',
        async () => ((await accepted(items, oldKey)) ? undefined : true),
        10 * RELOAD_INTERVAL_MS,
        100,
      );
      expect(await accepted(items, nextKey)).toBe(true);

      await rm(file);
      await waitFor('the missing file to be reported', async () => {
        await accepted(items, nextKey);
        return lines.some((l) => l.includes('API key file unreadable: keeping the last keys read')) ? true : undefined;
      });
      expect(await accepted(items, nextKey)).toBe(true);
    } finally {
      await app.close();
    }
  });
});

describe('the key file at boot', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir('api-keys');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it.each([
    ['is missing', undefined, /AUTH_API_KEYS_FILE=".*\/absent": cannot be read \(ENOENT\)/],
    ['holds only comments', '# no key yet\n\n', /AUTH_API_KEYS_FILE=".*": holds no key/],
    ['holds a short key', 'abc123\n', /AUTH_API_KEYS_FILE=".*": line 1: a key must have at least 16 characters/],
    ['holds a key with a space', '# k\nabcdefgh ijklmnopqrstu\n', /AUTH_API_KEYS_FILE=".*": line 2: a key may hold only/],
  ])('fails naming AUTH_API_KEYS_FILE when it %s', async (_what, text, message) => {
    const file = join(dir, text === undefined ? 'absent' : `keys-${randomBytes(4).toString('hex')}`);
    if (text !== undefined) await writeFile(file, text);
    expect(() => ApiKeys.open(file, silent)).toThrow(ConfigError);
    expect(() => ApiKeys.open(file, silent)).toThrow(message);
    if (text !== undefined) expect(() => ApiKeys.open(file, silent)).not.toThrow(/abc123|ijklmnop/);
  });
});
