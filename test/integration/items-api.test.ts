import { request as httpRequest } from 'node:http';
import { BODY_LIMIT_BYTES } from '../../src/http/validation';
import type { Item } from '../../src/store/types';
import { json, postJson, startApp } from '../helpers/app';
import type { ItemList, Problem, RunningApp } from '../helpers/app';

let app: RunningApp;
let items: string;

beforeAll(async () => {
  app = await startApp();
  items = `${app.url}/api/items`;
});
afterAll(() => app.close());

/** Sends raw bytes, for requests fetch would refuse to make. */
function raw(method: string, path: string, headers: Record<string, string>, body?: string | Buffer) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
    const req = httpRequest(`${app.url}${path}`, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('items CRUD', () => {
  it('creates an item with 201, a Location and the stored fields', async () => {
    const res = await postJson(items, { name: 'Widget', description: 'A small widget', tags: ['a', 'b'] });
    expect(res.status).toBe(201);
    const item = await json(res);
    const expected: Record<keyof Item, unknown> = {
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'Widget',
      description: 'A small widget',
      tags: ['a', 'b'],
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    };
    expect(item).toEqual(expected);
    expect(res.headers.get('location')).toBe(`/api/items/${item.id}`);
    const read = await fetch(`${items}/${item.id}`);
    expect(read.status).toBe(200);
    expect(await json(read)).toEqual(item);
  });

  it('defaults description to null and tags to empty', async () => {
    const item = await json(await postJson(items, { name: 'Bare' }));
    expect(item).toMatchObject({ description: null, tags: [] });
  });

  it('replaces with PUT, patches with PATCH and deletes with DELETE', async () => {
    const { id } = await json(await postJson(items, { name: 'Old', description: 'd', tags: ['x'] }));
    const put = await fetch(`${items}/${id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'New' }),
    });
    expect(put.status).toBe(200);
    expect(await json(put)).toMatchObject({ id, name: 'New', description: null, tags: [] });

    const patch = await fetch(`${items}/${id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ description: 'added', tags: ['t'] }),
    });
    expect(patch.status).toBe(200);
    expect(await json(patch)).toMatchObject({ name: 'New', description: 'added', tags: ['t'] });

    const clear = await fetch(`${items}/${id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ description: null }),
    });
    expect(await json(clear)).toMatchObject({ name: 'New', description: null, tags: ['t'] });

    expect((await fetch(`${items}/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await fetch(`${items}/${id}`)).status).toBe(404);
    expect((await fetch(`${items}/${id}`, { method: 'DELETE' })).status).toBe(404);
  });

  it('stores unicode and SQL-looking text exactly as sent', async () => {
    const name = "Robert'); DROP TABLE items;-- 🚀 Ünïcödé 中文";
    const res = await postJson(items, { name, tags: ['%', "'", '\\', '🚀'] });
    expect(res.status).toBe(201);
    const { id } = await json(res);
    expect(await json(await fetch(`${items}/${id}`))).toMatchObject({ name, tags: ['%', "'", '\\', '🚀'] });
  });

  it('counts characters, not bytes: 200 emoji are a valid name', async () => {
    expect((await postJson(items, { name: '🚀'.repeat(200) })).status).toBe(201);
    expect((await postJson(items, { name: '🚀'.repeat(201) })).status).toBe(400);
  });

  it('pages through the list with a bounded page size and an opaque cursor', async () => {
    const created: string[] = [];
    for (let i = 0; i < 7; i++) created.push((await json(await postJson(items, { name: `page-${i}` }))).id);
    const seen: string[] = [];
    let url: string | null = `${items}?limit=3`;
    let pages = 0;
    while (url !== null) {
      const body: ItemList = await json(await fetch(url));
      expect(body.items.length).toBeLessThanOrEqual(3);
      seen.push(...body.items.map((i) => i.id));
      url = body.nextCursor === null ? null : `${items}?limit=3&cursor=${body.nextCursor}`;
      pages++;
    }
    expect(pages).toBeGreaterThanOrEqual(3);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining(created));
    expect(seen.slice(-7)).toEqual(created);
  });
});

describe('bad input gets a problem+json naming the field, never a 5xx', () => {
  const longName = 'n'.repeat(201);
  it.each([
    ['malformed JSON', '{"name": "x",', 400, 'malformed_json', undefined],
    ['a JSON array', '[]', 400, 'validation_failed', '(body)'],
    ['a JSON string', '"text"', 400, 'malformed_json', undefined],
    ['null', 'null', 400, 'malformed_json', undefined],
    ['a missing name', '{}', 400, 'validation_failed', 'name'],
    ['a numeric name', '{"name": 42}', 400, 'validation_failed', 'name'],
    ['an empty name', '{"name": ""}', 400, 'validation_failed', 'name'],
    ['a blank name', '{"name": "   "}', 400, 'validation_failed', 'name'],
    ['a name over 200 characters', JSON.stringify({ name: longName }), 400, 'validation_failed', 'name'],
    [
      'a description over 2000 characters',
      JSON.stringify({ name: 'x', description: 'd'.repeat(2001) }),
      400,
      'validation_failed',
      'description',
    ],
    ['tags that are not an array', '{"name": "x", "tags": "a"}', 400, 'validation_failed', 'tags'],
    ['a tag that is not a string', '{"name": "x", "tags": ["a", 1]}', 400, 'validation_failed', 'tags.1'],
    ['21 tags', JSON.stringify({ name: 'x', tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }), 400, 'validation_failed', 'tags'],
    ['a duplicate tag', '{"name": "x", "tags": ["a", "a"]}', 400, 'validation_failed', 'tags.1'],
    ['an unknown field', '{"name": "x", "colour": "red"}', 400, 'validation_failed', 'colour'],
    ['a __proto__ field', '{"name": "x", "__proto__": {"admin": true}}', 400, 'validation_failed', '__proto__'],
    ['a NUL character', '{"name": "a\\u0000b"}', 400, 'validation_failed', 'name'],
    ['a lone surrogate', '{"name": "a\\ud800b"}', 400, 'validation_failed', 'name'],
  ])('rejects %s', async (_case, body, status, code, field) => {
    const res = await postJson(items, body);
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    const problem = await json<Problem>(res);
    const expected: Partial<Record<keyof Problem, unknown>> = {
      status,
      code,
      title: expect.any(String),
      type: expect.stringContaining(code.replaceAll('_', '-')),
    };
    expect(problem).toMatchObject(expected);
    if (field !== undefined) expect(problem.errors?.map((e) => e.field)).toContain(field);
    expect(JSON.stringify(problem)).not.toMatch(/at .*\.(ts|js):\d+/);
  });

  it('rejects a body over the limit with 413', async () => {
    const res = await postJson(items, JSON.stringify({ name: 'x', description: 'd'.repeat(BODY_LIMIT_BYTES) }));
    expect(res.status).toBe(413);
    expect(await json(res)).toMatchObject({ code: 'payload_too_large' });
  });

  it.each([
    ['text/plain', 'name=x'],
    ['application/x-www-form-urlencoded', 'name=x'],
    ['application/xml', '<item/>'],
  ])('rejects Content-Type %s with 415 naming the header', async (type, body) => {
    const res = await fetch(items, { method: 'POST', headers: { 'content-type': type }, body });
    expect(res.status).toBe(415);
    expect((await json<Problem>(res)).errors?.[0]).toMatchObject({ field: 'content-type', in: 'header' });
  });

  it('rejects an unsupported charset with 415', async () => {
    const res = await raw('POST', '/api/items', { 'content-type': 'application/json; charset=klingon' }, '{"name":"x"}');
    expect(res.status).toBe(415);
  });

  it('reports a missing body as a missing object', async () => {
    const res = await raw('POST', '/api/items', { 'content-type': 'application/json' });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'validation_failed' });
  });

  it('answers 404 for an unknown or malformed id', async () => {
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid', "1' OR '1'='1"]) {
      const res = await fetch(`${items}/${encodeURIComponent(id)}`);
      expect(res.status).toBe(404);
      expect(await json(res)).toMatchObject({ code: 'item_not_found', errors: [{ field: 'id', in: 'path' }] });
    }
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=101', 'limit'],
    ['limit=ten', 'limit'],
    ['limit=1&limit=2', 'limit'],
    ['cursor=bogus!', 'cursor'],
    ['cursor=MA', 'cursor'],
    ['sort=name', 'sort'],
  ])('rejects the list query %s naming %s', async (query, field) => {
    const res = await fetch(`${items}?${query}`);
    expect(res.status).toBe(400);
    expect((await json<Problem>(res)).errors).toEqual(expect.arrayContaining([expect.objectContaining({ field, in: 'query' })]));
  });

  it('answers an unknown route with 404 problem', async () => {
    const res = await fetch(`${app.url}/wp-login.php`);
    expect(res.status).toBe(404);
    expect(await json(res)).toMatchObject({ code: 'route_not_found' });
  });

  it.each([
    ['DELETE', '/api/items', 'GET, HEAD, POST, OPTIONS'],
    ['PUT', '/api/items', 'GET, HEAD, POST, OPTIONS'],
    ['POST', '/api/items/abc', 'GET, HEAD, PUT, PATCH, DELETE, OPTIONS'],
  ])('answers %s %s with 405 and Allow', async (method, path, allow) => {
    const res = await fetch(`${app.url}${path}`, { method });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe(allow);
    expect(await json(res)).toMatchObject({ code: 'method_not_allowed' });
  });

  it('answers OPTIONS with 204 and Allow', async () => {
    const res = await fetch(items, { method: 'OPTIONS' });
    expect(res.status).toBe(204);
    expect(res.headers.get('allow')).toBe('GET, HEAD, POST, OPTIONS');
  });
});

describe('operations endpoints', () => {
  it('answers liveness and readiness', async () => {
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
    expect(await json(await fetch(`${app.url}/readyz`))).toEqual({ status: 'ready' });
  });

  it('echoes a safe x-request-id and replaces an unsafe one', async () => {
    const given = await fetch(`${app.url}/healthz`, { headers: { 'x-request-id': 'abc-123' } });
    expect(given.headers.get('x-request-id')).toBe('abc-123');
    const unsafe = await fetch(`${app.url}/healthz`, { headers: { 'x-request-id': 'a b<script>' } });
    expect(unsafe.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
