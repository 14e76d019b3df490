import fc from 'fast-check';
import { json, postJson, startApp } from '../helpers/app';
import type { RunningApp } from '../helpers/app';

let app: RunningApp;
let existingId: string;

beforeAll(async () => {
  app = await startApp();
  existingId = (await json(await postJson(`${app.url}/api/items`, { name: 'target' }))).id;
});
afterAll(() => app.close());

/** Any string, including lone surrogates, NUL and control characters. */
const anyString = fc.string({ unit: 'binary', maxLength: 300 });
const anyValue = fc.oneof(anyString, fc.jsonValue({ maxDepth: 3 }), fc.constant(null), fc.double(), fc.integer());

/** Objects shaped like an item, with every field possibly of the wrong type, plus strays. */
const itemLike = fc.record(
  {
    name: anyValue,
    description: anyValue,
    tags: fc.oneof(fc.array(anyValue, { maxLength: 25 }), anyValue),
    extra: anyValue,
  },
  { requiredKeys: [] },
);

const body = fc.oneof(
  itemLike.map((o) => JSON.stringify(o)),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  anyString,
  fc.constantFrom('', '{', '{"name":', '[', 'null', '{"name": "\\ud800"}', '{"name":"a\\u0000"}'),
);

const request = fc.record({
  method: fc.constantFrom('POST', 'PUT', 'PATCH'),
  target: fc.constantFrom('collection', 'existing', 'unknown', 'garbage'),
  contentType: fc.constantFrom(
    'application/json',
    'application/merge-patch+json',
    'application/json; charset=utf-8',
    'application/json; charset=latin1',
    'text/plain',
    'multipart/form-data; boundary=x',
  ),
  body,
});

it('never answers a 5xx, whatever the body, type or target', async () => {
  await fc.assert(
    fc.asyncProperty(request, async ({ method, target, contentType, body }) => {
      const path = {
        collection: '/api/items',
        existing: `/api/items/${existingId}`,
        unknown: '/api/items/00000000-0000-4000-8000-000000000000',
        garbage: '/api/items/%E2%82%AC%00%27',
      }[target];
      const res = await fetch(`${app.url}${path}`, { method, headers: { 'content-type': contentType }, body });
      const text = await res.text();
      expect(res.status).toBeLessThan(500);
      if (res.status >= 400) {
        expect(res.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
        expect(JSON.parse(text)).toMatchObject({ status: res.status, code: expect.any(String) });
      }
    }),
    { numRuns: 400 },
  );
});

it('accepts every valid item and stores it exactly', async () => {
  const validText = (min: number, max: number) =>
    fc.string({ unit: 'grapheme', minLength: min, maxLength: max }).filter((s) => !s.includes('\u0000') && [...s].length <= max);
  const valid = fc.record(
    {
      name: validText(1, 200).filter((s) => s.trim() !== ''),
      description: fc.oneof(validText(0, 2000), fc.constant(null)),
      tags: fc.uniqueArray(validText(1, 100), { maxLength: 20 }),
    },
    { requiredKeys: ['name'] },
  );
  await fc.assert(
    fc.asyncProperty(valid, async (input) => {
      const res = await postJson(`${app.url}/api/items`, input);
      expect(res.status).toBe(201);
      const { id } = await json(res);
      const stored = await json(await fetch(`${app.url}/api/items/${id}`));
      expect(stored).toMatchObject({ name: input.name, description: input.description ?? null, tags: input.tags ?? [] });
    }),
    { numRuns: 150 },
  );
});
