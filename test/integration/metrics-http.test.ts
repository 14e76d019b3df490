import { createServer, request as httpRequest } from 'node:http';
import express from 'express';
import { RouteGroup } from '../../src/http/routing';
import { useHttpMetrics } from '../../src/metrics/middleware';
import { HttpMetrics } from '../../src/metrics/registry';
import { METRIC, UNMATCHED_ENDPOINT } from '../../src/contract';
import { json, listenOnEphemeralPort, postJson, startApp } from '../helpers/app';
import type { Problem, RunningApp } from '../helpers/app';
import type { Item } from '../../src/store/types';
import { scrape, select, valueOf } from '../helpers/exposition';
import { waitFor } from '../../tools/lib/processes';

const ITEMS = '/api/items';
const ITEM = '/api/items/:id';

function rawRequest(url: string, method: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTP metrics of the real app', () => {
  // One store for the suite; each test gets a fresh app and so fresh metrics.
  let storeOwner: RunningApp;
  let app: RunningApp;
  beforeAll(async () => {
    storeOwner = await startApp();
  });
  afterAll(() => storeOwner.close());
  beforeEach(async () => {
    app = await startApp({ faultInjection: true, store: storeOwner.store });
  });
  afterEach(() => app.close());

  it('counts exactly the traffic sent: 2xx, 4xx and injected 5xx, by route template', async () => {
    const created: Item[] = [];
    for (let i = 0; i < 5; i++) created.push(await json(await postJson(`${app.url}${ITEMS}`, { name: `n${i}` })));
    for (const item of created) await fetch(`${app.url}${ITEMS}/${item.id}`);
    for (let i = 0; i < 3; i++) await fetch(`${app.url}${ITEMS}/00000000-0000-4000-8000-00000000000${i}`);
    for (let i = 0; i < 4; i++) await postJson(`${app.url}${ITEMS}`, { name: 1 });
    for (let i = 0; i < 6; i++) await fetch(`${app.url}${ITEMS}`, { headers: { 'x-fault-status': '503' } });
    await fetch(`${app.url}${ITEMS}/${created[0]!.id}`, { headers: { 'x-fault-status': '500' } });

    const exp = await scrape(app.url);
    const total = (match: Record<string, string>) => valueOf(exp, METRIC.requestsTotal, match);
    expect(total({ method: 'POST', endpoint: ITEMS, status: '201' })).toBe(5);
    expect(total({ method: 'POST', endpoint: ITEMS, status: '400' })).toBe(4);
    expect(total({ method: 'GET', endpoint: ITEM, status: '200' })).toBe(5);
    expect(total({ method: 'GET', endpoint: ITEM, status: '404' })).toBe(3);
    expect(total({ method: 'GET', endpoint: ITEMS, status: '503' })).toBe(6);
    expect(total({ method: 'GET', endpoint: ITEM, status: '500' })).toBe(1);
    expect(total({})).toBe(24);

    expect(valueOf(exp, METRIC.requests4xx, { method: 'POST', endpoint: ITEMS })).toBe(4);
    expect(valueOf(exp, METRIC.requests4xx, { method: 'GET', endpoint: ITEM })).toBe(3);
    expect(valueOf(exp, METRIC.requests4xx)).toBe(7);
    expect(valueOf(exp, METRIC.requests5xx, { method: 'GET', endpoint: ITEMS })).toBe(6);
    expect(valueOf(exp, METRIC.requests5xx, { method: 'GET', endpoint: ITEM })).toBe(1);
    expect(valueOf(exp, METRIC.requests5xx)).toBe(7);
    expect(valueOf(exp, `${METRIC.requestDuration}_count`)).toBe(24);
    expect(valueOf(exp, `${METRIC.requestDuration}_count`, { method: 'GET', endpoint: ITEM })).toBe(9);
  });

  it('starts the error counters of every route at 0', async () => {
    const exp = await scrape(app.url);
    for (const [method, endpoint] of [
      ['GET', ITEMS],
      ['POST', ITEMS],
      ['GET', ITEM],
      ['PUT', ITEM],
      ['PATCH', ITEM],
      ['DELETE', ITEM],
    ]) {
      expect(select(exp, METRIC.requests5xx, { method: method!, endpoint: endpoint! })).toEqual([expect.objectContaining({ value: 0 })]);
    }
  });

  it('attributes requests rejected by the body parser to the route they were sent to', async () => {
    await postJson(`${app.url}${ITEMS}`, '{"name":');
    await postJson(`${app.url}${ITEMS}`, JSON.stringify({ name: 'x'.repeat(200_000) }));
    await fetch(`${app.url}${ITEMS}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
    await fetch(`${app.url}${ITEMS}/abc`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{' });
    const exp = await scrape(app.url);
    expect(valueOf(exp, METRIC.requestsTotal, { method: 'POST', endpoint: ITEMS, status: '400' })).toBe(1);
    expect(valueOf(exp, METRIC.requestsTotal, { method: 'POST', endpoint: ITEMS, status: '413' })).toBe(1);
    expect(valueOf(exp, METRIC.requestsTotal, { method: 'POST', endpoint: ITEMS, status: '415' })).toBe(1);
    expect(valueOf(exp, METRIC.requestsTotal, { method: 'PATCH', endpoint: ITEM, status: '400' })).toBe(1);
    expect(valueOf(exp, METRIC.requestsTotal, { endpoint: UNMATCHED_ENDPOINT })).toBe(0);
  });

  it('keeps the real route label on injected faults and delays', async () => {
    const started = Date.now();
    const res = await fetch(`${app.url}${ITEMS}`, { headers: { 'x-fault-delay-ms': '300' } });
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    const exp = await scrape(app.url);
    const buckets = select(exp, `${METRIC.requestDuration}_bucket`, { method: 'GET', endpoint: ITEMS });
    expect(buckets.find((b) => b.labels.le === '0.25')?.value).toBe(0);
    expect(buckets.find((b) => b.labels.le === '0.5')?.value).toBe(1);
  });

  it('records a request whose client went away as 499', async () => {
    const controller = new AbortController();
    const pending = fetch(`${app.url}${ITEMS}`, { headers: { 'x-fault-delay-ms': '400' }, signal: controller.signal }).catch(
      () => 'aborted',
    );
    // Abort once the app is answering the request (in the injected delay), not before it has it.
    await waitFor('the request in the app', () => (app.inFlight.size === 1 ? true : undefined), 5_000, 5);
    controller.abort();
    expect(await pending).toBe('aborted');
    // The app records the request once it sees the connection close.
    const exp = await waitFor(
      'the aborted request counted',
      async () => {
        const e = await scrape(app.url);
        return valueOf(e, METRIC.requestsTotal, { method: 'GET', endpoint: ITEMS }) > 0 ? e : undefined;
      },
      5_000,
      10,
    );
    expect(valueOf(exp, METRIC.requestsTotal, { method: 'GET', endpoint: ITEMS, status: '499' })).toBe(1);
    expect(valueOf(exp, METRIC.requests4xx, { method: 'GET', endpoint: ITEMS })).toBe(1);
  });

  it('rejects out-of-range fault headers with 400 naming the header', async () => {
    for (const [header, value] of [
      ['x-fault-status', '200'],
      ['x-fault-status', 'boom'],
      ['x-fault-delay-ms', '10001'],
    ]) {
      const res = await fetch(`${app.url}${ITEMS}`, { headers: { [header!]: value! } });
      expect(res.status).toBe(400);
      expect((await json<Problem>(res)).errors?.[0]).toMatchObject({ field: header, in: 'header' });
    }
  });

  it('folds 1,000 random unmatched paths into one series per method and status', async () => {
    const httpSeries = (e: Awaited<ReturnType<typeof scrape>>) => e.samples.filter((x) => x.name.startsWith('http_')).length;
    const before = httpSeries(await scrape(app.url));
    for (let i = 0; i < 1000; i++) {
      const path = `/${Math.random().toString(36).slice(2)}/${i}?q=${i}`;
      const res = await fetch(`${app.url}${path}`, { method: i % 2 === 0 ? 'GET' : 'POST' });
      expect(res.status).toBe(404);
    }
    const exp = await scrape(app.url);
    const unmatched = select(exp, METRIC.requestsTotal, { endpoint: UNMATCHED_ENDPOINT });
    expect(unmatched.map((s) => `${s.labels.method} ${s.labels.status} ${s.value}`).sort()).toEqual(['GET 404 500', 'POST 404 500']);
    // Per method: one total, one 4xx, and the histogram's buckets, sum and count.
    const perMethod = 1 + 1 + (select(exp, `${METRIC.requestDuration}_bucket`, { endpoint: UNMATCHED_ENDPOINT, method: 'GET' }).length + 2);
    expect(httpSeries(exp) - before).toBe(2 * perMethod);
  });

  it('folds unknown HTTP methods into OTHER', async () => {
    expect(await rawRequest(`${app.url}${ITEMS}`, 'PROPFIND')).toBe(405);
    expect(await rawRequest(`${app.url}/x`, 'MKCOL')).toBe(404);
    const exp = await scrape(app.url);
    expect(valueOf(exp, METRIC.requestsTotal, { method: 'OTHER', endpoint: ITEMS, status: '405' })).toBe(1);
    expect(valueOf(exp, METRIC.requestsTotal, { method: 'OTHER', endpoint: UNMATCHED_ENDPOINT })).toBe(1);
    expect(select(exp, METRIC.requestsTotal, { method: 'PROPFIND' })).toHaveLength(0);
  });

  it('does not count /metrics, /healthz or /readyz as requests', async () => {
    for (let i = 0; i < 3; i++) {
      await fetch(`${app.url}/healthz`);
      await fetch(`${app.url}/readyz`);
      await scrape(app.url);
    }
    expect(valueOf(await scrape(app.url), METRIC.requestsTotal)).toBe(0);
  });

  it.each([
    [
      'Prometheus 2',
      'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
    ],
    [
      'Prometheus 3',
      'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2',
    ],
  ])('negotiates OpenMetrics with the Accept header %s sends, and text otherwise', async (_prometheus, accept) => {
    const om = await fetch(`${app.url}/metrics`, { headers: { accept } });
    expect(om.headers.get('content-type')).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect((await om.text()).trimEnd().endsWith('# EOF')).toBe(true);
    const text = await fetch(`${app.url}/metrics`, { headers: { accept: 'text/plain;version=0.0.4;q=0.5,*/*;q=0.1' } });
    expect(text.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const plain = await fetch(`${app.url}/metrics`);
    expect(plain.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  it('ignores fault headers when fault injection is off', async () => {
    const off = await startApp({ faultInjection: false, store: storeOwner.store });
    try {
      const res = await fetch(`${off.url}${ITEMS}`, { headers: { 'x-fault-status': '500', 'x-fault-delay-ms': 'x' } });
      expect(res.status).toBe(200);
    } finally {
      await off.close();
    }
  });

  it('leaves /metrics off the API port when a separate listener serves it', async () => {
    const separate = await startApp({ serveMetrics: false, store: storeOwner.store });
    try {
      expect((await fetch(`${separate.url}/metrics`)).status).toBe(404);
    } finally {
      await separate.close();
    }
  });
});

describe('route templates of nested routers', () => {
  it('labels routes of a router mounted on a parameterised path with the full template', async () => {
    const metrics = new HttpMetrics({ version: 't', defaultMetrics: false });
    const app = express();
    useHttpMetrics(app, metrics);
    const users = new RouteGroup(app).group('/api/users/:userId');
    users.group('/orders/:orderId').route('/lines/:lineId', {
      get: (req, res) => void res.json(req.params),
    });
    users.route('/', { get: (_req, res) => void res.json({}) });
    app.use(express.json(), (_req, res) => void res.status(404).end());
    const server = createServer(app);
    const url = await listenOnEphemeralPort(server);
    try {
      const res = await fetch(`${url}/api/users/u1/orders/o9/lines/l3`);
      expect(await json(res)).toEqual({ userId: 'u1', orderId: 'o9', lineId: 'l3' });
      await fetch(`${url}/api/users/u2/orders/o1/lines/l1`);
      await fetch(`${url}/api/users/u3`);
      await fetch(`${url}/api/users/u3/orders/o1/nothing`);
      const body = (await metrics.render(undefined)).body.toString();
      expect(body).toContain(
        'http_requests_total{method="GET",endpoint="/api/users/:userId/orders/:orderId/lines/:lineId",status="200"} 2',
      );
      expect(body).toContain('http_requests_total{method="GET",endpoint="/api/users/:userId",status="200"} 1');
      expect(body).toContain(`http_requests_total{method="GET",endpoint="${UNMATCHED_ENDPOINT}",status="404"} 1`);
      expect(body).not.toMatch(/u1|u2|o9|l3/);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
