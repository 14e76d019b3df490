import { OPENAPI_PATH } from '../../src/contract';
import { json, postJson, startApp } from '../helpers/app';
import type { RunningApp } from '../helpers/app';

let app: RunningApp;
beforeAll(async () => {
  app = await startApp();
});
afterAll(() => app.close());

describe('X-Content-Type-Options: nosniff', () => {
  it.each<[string, () => Promise<Response>, number]>([
    ['a created item', () => postJson(`${app.url}/api/items`, { name: 'Widget' }), 201],
    ['a list of items', () => fetch(`${app.url}/api/items`), 200],
    ['a problem (400)', () => postJson(`${app.url}/api/items`, { name: 42 }), 400],
    ['a problem (415)', () => postJson(`${app.url}/api/items`, 'x', { 'content-type': 'text/plain' }), 415],
    ['the metrics', () => fetch(`${app.url}/metrics`), 200],
    ['an unknown route (404)', () => fetch(`${app.url}/nowhere`), 404],
    ['a method not allowed (405)', () => fetch(`${app.url}/healthz`, { method: 'DELETE' }), 405],
    ['OPTIONS (204, no body)', () => fetch(`${app.url}/api/items`, { method: 'OPTIONS' }), 204],
    ['the API description', () => fetch(`${app.url}${OPENAPI_PATH}`), 200],
  ])('is on %s', async (_case, send, status) => {
    const res = await send();
    await res.arrayBuffer();
    expect(res.status).toBe(status);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('is on a deleted item’s 204 and on the 404 that follows', async () => {
    const { id } = await json(await postJson(`${app.url}/api/items`, { name: 'short-lived' }));
    const deleted = await fetch(`${app.url}/api/items/${id}`, { method: 'DELETE' });
    expect([deleted.status, deleted.headers.get('x-content-type-options')]).toEqual([204, 'nosniff']);
    const gone = await fetch(`${app.url}/api/items/${id}`);
    expect([gone.status, gone.headers.get('x-content-type-options')]).toEqual([404, 'nosniff']);
  });
});
