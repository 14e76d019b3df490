import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { HEALTH_PATH, ITEMS_PATH, METRICS_PATH, OPENAPI_PATH, READY_PATH, RUNBOOKS_PATH } from '../../src/contract';
import { PROBLEMS } from '../../src/http/problems';
import { openApiDocument } from '../../src/openapi/document';
import { itemInput, itemPatch } from '../../src/routes/item-schemas';
import { openApiText } from '../../tools/openapi';
import { startApp } from '../helpers/app';
import type { RunningApp } from '../helpers/app';

const ROOT = join(__dirname, '..', '..');
const COMMITTED = join(ROOT, 'docs', 'openapi.json');
const VALIDATOR = join(ROOT, 'node_modules', '@seriousme', 'openapi-schema-validator', 'bin', 'validate-api-cli.js');
type Json = Record<string, unknown>;

/** The value at `path` in a JSON document (undefined when any step is missing). */
function at(value: unknown, ...path: string[]): unknown {
  return path.reduce<unknown>((v, key) => (typeof v === 'object' && v !== null ? (v as Json)[key] : undefined), value);
}
const keys = (value: unknown): string[] => Object.keys(value ?? {});

/** The OpenAPI 3.1 schema's verdict on `doc` (the validator is ESM-only: run in plain Node). */
function officialVerdict(doc: unknown): { valid: boolean; errors?: unknown } {
  const dir = mkdtempSync(join(tmpdir(), 'openapi-'));
  try {
    writeFileSync(join(dir, 'openapi.json'), JSON.stringify(doc));
    try {
      return JSON.parse(execFileSync(process.execPath, [VALIDATOR, join(dir, 'openapi.json')], { encoding: 'utf8' })) as { valid: boolean };
    } catch (err) {
      return JSON.parse((err as { stdout: string }).stdout) as { valid: boolean; errors: unknown };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the API description', () => {
  const doc = openApiDocument();

  it('is committed as docs/openapi.json, up to date (npm run openapi writes it)', () => {
    expect(readFileSync(COMMITTED, 'utf8')).toBe(openApiText());
  });

  it('is a valid OpenAPI 3.1 document', () => {
    expect(officialVerdict(doc)).toEqual({ valid: true });
  });

  it('is refused by the same check when broken', () => {
    const broken = structuredClone(doc);
    delete broken.info;
    (at(broken, 'paths', ITEMS_PATH, 'get', 'responses', '200') as Json).content = 'not a map';
    expect(officialVerdict(broken).valid).toBe(false);
  });

  it('lists every path the service serves, with OPTIONS on each', () => {
    expect(keys(doc.paths).sort()).toEqual(
      [ITEMS_PATH, `${ITEMS_PATH}/{id}`, HEALTH_PATH, READY_PATH, METRICS_PATH, RUNBOOKS_PATH, OPENAPI_PATH].sort(),
    );
    for (const path of keys(doc.paths)) expect(at(doc, 'paths', path, 'options', 'responses', '204')).toBeDefined();
  });

  it('describes every problem code of the catalogue and those of authentication, rate limits and depth', () => {
    const codes = at(doc, 'components', 'schemas', 'Problem', 'properties', 'code', 'enum');
    expect(codes).toEqual(
      expect.arrayContaining([...Object.keys(PROBLEMS), 'unauthenticated', 'forbidden', 'rate_limited', 'body_too_deep']),
    );
    const create = at(doc, 'paths', ITEMS_PATH, 'post', 'responses');
    expect(at(create, '401', 'headers', 'WWW-Authenticate')).toEqual({ $ref: '#/components/headers/WWWAuthenticate' });
    expect(at(create, '403')).toBeDefined();
    expect(keys(at(create, '429', 'headers'))).toEqual(expect.arrayContaining(['Retry-After', 'RateLimit', 'RateLimit-Policy']));
    expect(at(create, '400', 'content', 'application/problem+json', 'schema', 'allOf', '1', 'properties', 'code', 'enum')).toContain(
      'body_too_deep',
    );
  });

  it('caps the field errors at 20 and counts the rest in omittedErrors', () => {
    const problem = at(doc, 'components', 'schemas', 'Problem', 'properties');
    expect(at(problem, 'errors', 'maxItems')).toBe(20);
    expect(at(problem, 'omittedErrors')).toMatchObject({ type: 'integer', minimum: 1 });
  });

  it('asks a bearer credential for writes and lets reads go without one', () => {
    expect(at(doc, 'components', 'securitySchemes', 'bearerAuth')).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(at(doc, 'paths', ITEMS_PATH, 'post', 'security')).toEqual([{ bearerAuth: [] }]);
    expect(at(doc, 'paths', `${ITEMS_PATH}/{id}`, 'delete', 'security')).toEqual([{ bearerAuth: [] }]);
    expect(at(doc, 'paths', ITEMS_PATH, 'get', 'security')).toEqual([{}, { bearerAuth: [] }]);
    expect(at(doc, 'paths', HEALTH_PATH, 'get', 'security')).toEqual([]);
  });

  // The request schemas are zod's, converted: the document must accept what the API accepts.
  const ajv = new Ajv2020({ strict: true });
  addFormats(ajv);
  const schema = (name: string) => ajv.compile(at(doc, 'components', 'schemas', name) as Json);
  const accepts = { ItemInput: schema('ItemInput'), ItemPatch: schema('ItemPatch') };
  it.each<[string, Record<string, unknown>, boolean]>([
    ['a bare name', { name: 'Widget' }, true],
    ['every field', { name: 'Widget', description: null, tags: ['a', 'b'] }, true],
    ['200 emoji (code points, not UTF-16 units)', { name: '😀'.repeat(200) }, true],
    ['201 emoji', { name: '😀'.repeat(201) }, false],
    ['an empty name', { name: '' }, false],
    ['a blank name', { name: ' \t ' }, false],
    ['a NUL character', { name: 'a\u0000b' }, false],
    ['a duplicate tag', { name: 'x', tags: ['a', 'a'] }, false],
    ['21 tags', { name: 'x', tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }, false],
    ['an empty tag', { name: 'x', tags: [''] }, false],
    ['a description of 2,001 characters', { name: 'x', description: 'd'.repeat(2001) }, false],
    ['an unknown field', { name: 'x', colour: 'red' }, false],
    ['no name', {}, false],
  ])('judges %s as the API does (valid: %s)', (_case, body, valid) => {
    expect(itemInput.safeParse(body).success).toBe(valid);
    expect(accepts.ItemInput(body)).toBe(valid);
    const patch: Json = { ...body };
    if (!('name' in body)) patch.description = null;
    expect(accepts.ItemPatch(patch)).toBe(itemPatch.safeParse(patch).success);
  });
});

describe('GET /openapi.json', () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(() => app.close());

  it('serves the document', async () => {
    const res = await fetch(`${app.url}${OPENAPI_PATH}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await res.json()).toEqual(openApiDocument());
  });

  it('is not counted in the HTTP metrics, like the other operational endpoints', async () => {
    await fetch(`${app.url}${OPENAPI_PATH}`);
    expect(await (await fetch(`${app.url}${METRICS_PATH}`)).text()).not.toContain(`endpoint="${OPENAPI_PATH}"`);
  });

  it('answers every operation it lists with a route (never route_not_found or method_not_allowed)', async () => {
    const doc = openApiDocument();
    for (const template of keys(doc.paths)) {
      const path = template.replace('{id}', '00000000-0000-4000-8000-000000000000');
      for (const method of keys(at(doc, 'paths', template)).filter((m) => m !== 'parameters')) {
        const res = await fetch(`${app.url}${path}`, { method: method.toUpperCase(), headers: { 'content-type': 'application/json' } });
        const problem =
          res.headers.get('content-type')?.startsWith('application/problem+json') === true ? ((await res.json()) as Json) : {};
        const code = problem.code;
        expect([method, template, code]).not.toEqual([method, template, 'route_not_found']);
        expect([method, template, code]).not.toEqual([method, template, 'method_not_allowed']);
      }
    }
  });
});
