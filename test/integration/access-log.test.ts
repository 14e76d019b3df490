import { Writable } from 'node:stream';
import { createLogger } from '../../src/logger';
import { DeferredStore } from '../../src/store/deferred';
import { postJson, startApp } from '../helpers/app';
import type { RunningApp } from '../helpers/app';

interface Line {
  level: number;
  msg: string;
  req?: { id: string; method: string; url: string; remoteAddress: string };
  res?: { statusCode: number };
  responseTime?: number;
}

/** The service's logger writing to an array the test reads. */
function captured(level: 'info' | 'warn'): { logger: ReturnType<typeof createLogger>; lines: Line[] } {
  const lines: Line[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l !== '') lines.push(JSON.parse(l) as Line);
      done();
    },
  });
  return { logger: createLogger({ level }, stream), lines };
}

const accessLines = (lines: Line[]) => lines.filter((l) => l.msg.startsWith('request '));

describe('access log', () => {
  let app: RunningApp;
  let lines: Line[];
  beforeEach(async () => {
    const log = captured('info');
    lines = log.lines;
    app = await startApp({ logger: log.logger });
  });
  afterEach(() => app.close());

  it('logs each API request once, at its end, with its id, method, URL, status and duration', async () => {
    const created = await postJson(`${app.url}/api/items`, { name: 'Widget' }, { 'x-request-id': 'trace-1' });
    expect(created.status).toBe(201);
    const missing = await fetch(`${app.url}/api/items/00000000-0000-4000-8000-000000000000?x=1`);
    expect(missing.status).toBe(404);
    const logged = accessLines(lines);
    expect(logged).toHaveLength(2);
    expect(logged[0]).toMatchObject({
      level: 30,
      msg: 'request completed',
      req: { id: 'trace-1', method: 'POST', url: '/api/items', remoteAddress: expect.any(String) as unknown },
      res: { statusCode: 201 },
    });
    expect(logged[0]!.responseTime).toEqual(expect.any(Number));
    expect(logged[1]).toMatchObject({
      req: { id: missing.headers.get('x-request-id'), method: 'GET', url: '/api/items/00000000-0000-4000-8000-000000000000?x=1' },
      res: { statusCode: 404 },
    });
  });

  it('logs unmatched routes and leaves probes and scrapes out', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics', '/openapi.json']) expect((await fetch(`${app.url}${path}`)).status).toBe(200);
    expect(accessLines(lines)).toEqual([]);
    expect((await fetch(`${app.url}/nowhere`)).status).toBe(404);
    expect(accessLines(lines)).toMatchObject([{ req: { url: '/nowhere' }, res: { statusCode: 404 } }]);
  });
});

describe('access log at LOG_LEVEL=warn', () => {
  it('writes no access lines, and a store failure names the request it failed', async () => {
    const { logger, lines } = captured('warn');
    const app = await startApp({ logger, store: new DeferredStore('pglite') });
    try {
      const res = await fetch(`${app.url}/api/items`, { headers: { 'x-request-id': 'trace-2' } });
      expect(res.status).toBe(503);
      expect(accessLines(lines)).toEqual([]);
      expect(lines).toMatchObject([{ level: 40, msg: 'store unavailable', req: { id: 'trace-2', method: 'GET', url: '/api/items' } }]);
    } finally {
      await app.close();
    }
  });
});
