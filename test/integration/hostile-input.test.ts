/**
 * Requests a scanner or a broken client sends: each gets a 4xx naming what is wrong, counted
 * against the route it was sent to, never a 5xx.
 */
import { connect } from 'node:net';
import { request as httpRequest } from 'node:http';
import { MAX_JSON_DEPTH } from '../../src/http/json-depth';
import { MAX_FIELD_ERRORS } from '../../src/http/problems';
import { BODY_LIMIT_BYTES } from '../../src/http/validation';
import { deepArrays, deepInvalidUtf8, distinctTags, unknownFields } from '../../tools/reliability/bodies';
import { json, postJson, startApp } from '../helpers/app';
import type { RunningApp } from '../helpers/app';
import { scrape, valueOf } from '../helpers/exposition';

let app: RunningApp;

beforeAll(async () => {
  app = await startApp();
});
afterAll(() => app.close());

function raw(method: string, path: string, headers: Record<string, string>, body?: Buffer) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    // An explicit length: Node's client sends a GET or DELETE body unframed otherwise.
    const length = body === undefined ? {} : { 'content-length': String(body.length) };
    const req = httpRequest(`${app.url}${path}`, { method, headers: { ...headers, ...length } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('malformed percent-encoding in a path parameter', () => {
  const paths = ['/api/items/%zz', '/api/items/%E0%A4%A', '/api/items/%', '/api/items/%ff%fe'];
  const methods = ['GET', 'PUT', 'PATCH', 'DELETE', 'POST', 'PROPFIND'];

  it.each(paths.flatMap((p) => methods.map((m) => [m, p])))('%s %s answers 400 naming the id', async (method, path) => {
    const res = await raw(method, path, { 'content-type': 'application/json' }, Buffer.from('{"name":"x"}'));
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({
      code: 'validation_failed',
      errors: [{ field: 'id', in: 'path', detail: 'is not valid percent-encoding' }],
    });
  });

  it('counts them as 4xx against /api/items/:id, not as 5xx', async () => {
    const before = await scrape(app.url);
    const base = valueOf(before, 'http_requests_4xx_total', { method: 'GET', endpoint: '/api/items/:id' });
    for (const path of paths) await raw('GET', path, {});
    const after = await scrape(app.url);
    expect(valueOf(after, 'http_requests_4xx_total', { method: 'GET', endpoint: '/api/items/:id' })).toBe(base + paths.length);
    expect(after.samples.filter((s) => s.name === 'http_requests_5xx_total' && s.value > 0)).toEqual([]);
  });
});

describe('cursors', () => {
  it.each([
    ['2^63', Buffer.from('9223372036854775808').toString('base64url')],
    ['10^19 - 1', Buffer.from('9999999999999999999').toString('base64url')],
  ])('answers 400 for a cursor beyond the bigint range (%s)', async (_, cursor) => {
    const res = await fetch(`${app.url}/api/items?cursor=${cursor}`);
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({ errors: [{ field: 'cursor', in: 'query' }] });
  });

  it('accepts the largest bigint as a cursor', async () => {
    const res = await fetch(`${app.url}/api/items?cursor=${Buffer.from('9223372036854775807').toString('base64url')}`);
    expect(res.status).toBe(200);
  });
});

describe('a body over the limit', () => {
  it('is refused with 413 from its Content-Length alone, before any of it is sent', async () => {
    const declared = 50 * 1024 * 1024;
    // Headers only: a client that declares 50 MB and then stalls.
    const answer = await new Promise<string>((resolve, reject) => {
      const port = new URL(app.url).port;
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(`POST /api/items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${declared}\r\n\r\n`);
      });
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (c: string) => (text += c));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toMatch(/connection: close/i);
    expect(answer).toContain('"code":"payload_too_large"');
  });

  it('still gets 413 when sent in full', async () => {
    const res = await postJson(`${app.url}/api/items`, { name: 'x'.repeat(BODY_LIMIT_BYTES) });
    expect(res.status).toBe(413);
  });
});

describe('invalid UTF-8 inside JSON strings', () => {
  const bad = (before: string, bytes: number[], after: string) =>
    Buffer.concat([Buffer.from(before), Buffer.from(bytes), Buffer.from(after)]);

  it.each([
    ['name', bad('{"name":"a', [0xff], 'b"}'), '/name'],
    ['description', bad('{"name":"ok","description":"', [0xc3, 0x28], '"}'), '/description'],
    ['tags.1', bad('{"name":"ok","tags":["fine","', [0xed, 0xa0, 0x80], '"]}'), '/tags/1'],
    ['name (truncated sequence)', bad('{"name":"', [0xe2, 0x82], '"}'), '/name'],
  ])('rejects it in %s with 400 naming the field', async (_, body, pointer) => {
    const res = await raw('POST', '/api/items', { 'content-type': 'application/json' }, body);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({
      code: 'validation_failed',
      errors: [{ in: 'body', pointer, detail: 'must be valid UTF-8' }],
    });
  });

  it('stores a real U+FFFD sent as valid UTF-8 exactly', async () => {
    const res = await raw('POST', '/api/items', { 'content-type': 'application/json' }, Buffer.from('{"name":"a\uFFFDb"}'));
    expect(res.status).toBe(201);
    expect(JSON.parse(res.body)).toMatchObject({ name: 'a\uFFFDb' });
  });
});

describe('bodies whose validation could cost more than their size', () => {
  const post = (body: Buffer) => raw('POST', '/api/items', { 'content-type': 'application/json' }, body);
  const nested = (depth: number) => Buffer.from(`{"name":"x","tags":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`);

  it(`refuses nesting deeper than ${MAX_JSON_DEPTH} levels with 400 body_too_deep naming the limit`, async () => {
    const res = await post(nested(MAX_JSON_DEPTH + 1));
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({
      code: 'body_too_deep',
      errors: [{ field: '(body)', in: 'body', detail: `must not nest more than ${MAX_JSON_DEPTH} levels deep` }],
    });
  });

  it(`validates a body nested exactly ${MAX_JSON_DEPTH} levels as usual`, async () => {
    const res = await post(nested(MAX_JSON_DEPTH));
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'validation_failed', errors: [{ field: 'tags.0' }] });
  });

  it('does not count brackets inside strings, escaped quotes included', async () => {
    const name = `\\"${'['.repeat(150)}`;
    const res = await post(Buffer.from(`{"name":"${name}"}`));
    expect(res.status).toBe(201);
    expect(JSON.parse(res.body)).toMatchObject({ name: `"${'['.repeat(150)}` });
  });

  it.each([
    ['invalid UTF-8 nested 300 deep', deepInvalidUtf8(300), 'body_too_deep'],
    ['arrays nested as deep as the size allows', deepArrays(), 'body_too_deep'],
    ['unknown fields', unknownFields(), 'validation_failed'],
    ['distinct tags', distinctTags(), 'validation_failed'],
  ])('answers %s with a 400 of a few kB', async (_, body, code) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ code });
    expect(Buffer.byteLength(res.body)).toBeLessThan(8 * 1024);
  });

  it(`lists the first ${MAX_FIELD_ERRORS} field errors and counts the rest`, async () => {
    const body = unknownFields();
    const fields = (body.toString().match(/"f\d+":/g) ?? []).length;
    const res = JSON.parse((await post(body)).body) as { errors: { field: string }[]; omittedErrors: number; detail: string };
    expect(res.errors).toHaveLength(MAX_FIELD_ERRORS);
    expect(res.errors[0]).toMatchObject({ field: 'f0', detail: 'is not a known field' });
    expect(res.omittedErrors).toBe(fields - MAX_FIELD_ERRORS);
    expect(res.detail).toMatch(new RegExp(`; and ${fields - MAX_FIELD_ERRORS} more$`));
  });

  it('lists the first strings of invalid UTF-8 and counts the rest', async () => {
    const strings = 3_000;
    const body = Buffer.concat([
      Buffer.from('{"name":"x","tags":['),
      ...Array.from({ length: strings }, (_, i) => Buffer.from([...(i === 0 ? [] : [0x2c]), 0x22, 0xff, 0x22])),
      Buffer.from(']}'),
    ]);
    const res = JSON.parse((await post(body)).body) as { code: string; errors: { pointer: string }[]; omittedErrors: number };
    expect(res.code).toBe('validation_failed');
    expect(res.errors.map((e) => e.pointer)).toEqual(Array.from({ length: MAX_FIELD_ERRORS }, (_, i) => `/tags/${i}`));
    expect(res.omittedErrors).toBe(strings - MAX_FIELD_ERRORS);
  });

  it('leaves no omittedErrors member when every error is listed', async () => {
    const res = JSON.parse((await post(Buffer.from('{"name":"x","colour":"red"}'))).body) as Record<string, unknown>;
    expect(res).not.toHaveProperty('omittedErrors');
  });
});
