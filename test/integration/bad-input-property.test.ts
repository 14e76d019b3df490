import { request as httpRequest } from 'node:http';
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

/** An answer may be this large whatever was sent (a problem's fixed members, the request's path). */
const ANSWER_BASE_BYTES = 8 * 1024;

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

/** Nesting from shallow to far beyond the limit, at the top or inside `tags`. */
const deeplyNested = fc
  .tuple(fc.integer({ min: 1, max: 3_000 }), fc.constantFrom('[', '{"a":'), anyValue, fc.boolean())
  .map(([depth, open, inner, inTags]) => {
    const close = open === '[' ? ']' : '}';
    const value = `${open.repeat(depth)}${JSON.stringify(inner) ?? 'null'}${close.repeat(depth)}`;
    return inTags ? `{"name":"x","tags":${value}}` : value;
  });
/** Up to thousands of unknown fields: one error each, of which the answer lists a few. */
const unknownFields = fc
  .uniqueArray(fc.string({ minLength: 1, maxLength: 40 }), { maxLength: 3_000 })
  .map((keys) => JSON.stringify(Object.fromEntries([['name', 'x'], ...keys.map((k) => [`x-${k}`, 0])])));

const body = fc.oneof(
  itemLike.map((o) => JSON.stringify(o)),
  deeplyNested,
  unknownFields,
  fc.jsonValue().map((v) => JSON.stringify(v)),
  anyString,
  fc.constantFrom('', '{', '{"name":', '[', 'null', '{"name": "\\ud800"}', '{"name":"a\\u0000"}'),
);

/** Where a write goes: the collection, the one existing item, an unknown id of any version, or any path below the collection. */
type Target = { kind: 'collection' } | { kind: 'existing' } | { kind: 'path'; path: string };

const target: fc.Arbitrary<Target> = fc.oneof(
  fc.constant({ kind: 'collection' as const }),
  fc.constant({ kind: 'existing' as const }),
  fc.uuid().map((id) => ({ kind: 'path' as const, path: `/api/items/${id}` })),
  fc
    .array(pathPieceArbitrary(), { minLength: 1, maxLength: 12 })
    .map((xs) => ({ kind: 'path' as const, path: `/api/items/${xs.join('')}` })),
);

const request = fc.record({
  method: fc.constantFrom('POST', 'PUT', 'PATCH'),
  target,
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

it('never answers a 5xx and never changes an item on a rejected write, whatever the body, type or target', async () => {
  const read = async () => (await sendExactly('GET', `/api/items/${existingId}`, {})).text;
  let stored = await read();
  await fc.assert(
    fc.asyncProperty(request, async ({ method, target, contentType, body }) => {
      const path = target.kind === 'collection' ? '/api/items' : target.kind === 'existing' ? `/api/items/${existingId}` : target.path;
      const res = await sendExactly(method, path, { 'content-type': contentType }, body);
      expect(res.status).toBeLessThan(500);
      // The answer stays bounded by what was sent, whatever number of errors the body holds.
      expect(Buffer.byteLength(res.text)).toBeLessThanOrEqual(ANSWER_BASE_BYTES + 3 * Buffer.byteLength(body));
      if (res.status >= 400) {
        expect(res.type).toBe('application/problem+json; charset=utf-8');
        const problem = JSON.parse(res.text) as { status?: unknown; code?: unknown };
        expect(problem.status).toBe(res.status);
        expect(typeof problem.code).toBe('string');
      }
      if (target.kind !== 'existing') return;
      // A rejected write leaves the item exactly as it was; an accepted one answers with what is now stored.
      if (res.status >= 400) {
        expect(await read()).toBe(stored);
      } else {
        stored = await read();
        expect(JSON.parse(res.text)).toEqual(JSON.parse(stored));
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

/** A piece of a URL path: safe characters, broken or hostile percent-escapes, any escaped byte. */
function pathPieceArbitrary(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(...[..."abcXYZ019-._~!$&'()*+,;=:@/"]),
    fc.constantFrom('%', '%z', '%zz', '%ff', '%fe', '%00', '%2F', '%25', '%E0%A4%A', '%C0%AF', '%ED%A0%80', '%F0%9F%98%80', '..', '//'),
    fc.integer({ min: 0, max: 255 }).map((b) => `%${b.toString(16).padStart(2, '0')}`),
  );
}

/** Sends one request with node:http, which (unlike fetch) sends the path exactly as given. */
function sendExactly(method: string, path: string, headers: Record<string, string>, body?: string) {
  return new Promise<{ status: number; type: string | undefined; text: string }>((resolve, reject) => {
    const length = body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) };
    const req = httpRequest(`${app.url}${path}`, { method, headers: { ...headers, ...length }, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, type: res.headers['content-type'], text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const pathPiece = pathPieceArbitrary();
const pathText = fc.array(pathPiece, { minLength: 0, maxLength: 12 }).map((xs) => xs.join(''));

const hostileTarget = fc.record({
  method: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'PROPFIND', 'TRACE'),
  path: fc.oneof(
    pathText.map((p) => `/api/items/${p}`),
    pathText.map((p) => `/api/${p}`),
    pathText.map((p) => `/${p}`),
    fc.constant('/api/items'),
  ),
  query: fc.option(
    fc
      .array(fc.tuple(fc.constantFrom('limit', 'cursor', 'x', 'limit[]', '__proto__', ''), pathText), { maxLength: 4 })
      .map((pairs) => pairs.map(([k, v]) => `${k}=${v.replaceAll('/', '%2F')}`).join('&')),
    { nil: undefined },
  ),
  headers: fc.record(
    {
      'content-type': fc.constantFrom(
        'application/json',
        'text/plain',
        'application/json; charset=utf-16',
        'application/*+json',
        'x/y; a=b',
        '',
      ),
      accept: fc.constantFrom('*/*', 'application/openmetrics-text; version=1.0.0', 'text/html;q=0', 'garbage;;', ''),
      'x-request-id': fc.string({ maxLength: 200 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
      'content-encoding': fc.constantFrom('identity', 'gzip', 'x-unknown'),
    },
    { requiredKeys: [] },
  ),
  body: fc.option(body, { nil: undefined }),
});

it('never answers or counts a 5xx, whatever the method, path, query string or headers', async () => {
  const fiveXx = async () => {
    const text = await (await fetch(`${app.url}/metrics`)).text();
    return [...text.matchAll(/^http_requests_5xx_total\{[^}]*\} (\d+)$/gm)].reduce((s, m) => s + Number(m[1]), 0);
  };
  const before = await fiveXx();
  await fc.assert(
    fc.asyncProperty(hostileTarget, async ({ method, path, query, headers, body: sent }) => {
      const withBody = method !== 'GET' && method !== 'HEAD' && method !== 'TRACE' ? sent : undefined;
      const res = await sendExactly(method, query === undefined ? path : `${path}?${query}`, headers, withBody);
      expect(res.status).toBeLessThan(500);
      if (res.status >= 400 && method !== 'HEAD') {
        expect(res.type).toBe('application/problem+json; charset=utf-8');
        const problem = JSON.parse(res.text) as { status?: unknown; code?: unknown };
        expect(problem.status).toBe(res.status);
        expect(typeof problem.code).toBe('string');
      }
    }),
    { numRuns: 600 },
  );
  expect(await fiveXx()).toBe(before);
});
