/**
 * Hostile input and random URLs: requests a scanner or a broken client sends. None may be
 * answered 5xx or counted as one, and random URLs must not mint metric series.
 */
import type { RequestSpec, Target } from './target';
import { pool, random, scrapeSeries, send, sendRaw, total } from './target';
import { ITEMS_PATH, METRIC } from '../../src/contract';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'PROPFIND', 'TRACE'];
const BAD_ENCODINGS = ['%zz', '%E0%A4%A', '%', '%ff%fe', '%C0%AF', '%ED%A0%80', '%00', '%%', '%u0041', '%2', 'a%zzb'];
const SERIES_FAMILIES = [METRIC.requestsTotal, `${METRIC.requestDuration}_count`, METRIC.requests4xx, METRIC.requests5xx];

export interface HostileResult {
  readonly tried: number;
  readonly answered5xx: number;
  readonly counted5xx: number;
  readonly unanswered: number;
  /** A few of the requests answered 5xx, to show what broke. */
  readonly examples: string[];
}

type Pick = <T>(xs: readonly T[]) => T;

function hostileRequest(rnd: () => number, pick: Pick, itemId: string): RequestSpec | { raw: Buffer } {
  const json = { 'content-type': 'application/json' };
  const body = (...parts: (string | number[])[]) =>
    Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
  const kinds: (() => RequestSpec | { raw: Buffer })[] = [
    () => ({ method: pick(METHODS), path: `/api/items/${pick(BAD_ENCODINGS)}`, headers: json, body: '{"name":"x"}' }),
    () => ({ path: `/api/items?cursor=${Buffer.from(String(BigInt(Math.floor(rnd() * 1e6)) * 10n ** 13n)).toString('base64url')}` }),
    () => ({
      path: `/api/items?cursor=${pick(['OTIyMzM3MjAzNjg1NDc3NTgwOA', '%zz', 'AAAA', '-1', '', 'MA', 'OTk5OTk5OTk5OTk5OTk5OTk5OQ'])}`,
    }),
    () => ({ path: `/api/items?limit=${pick(['0', '-1', '1e3', 'NaN', '101', '1.5', '%ff', '99999999999999999999'])}&limit=2` }),
    () => ({ path: `/api/items?${pick(['a[b]=1', 'cursor[]=x', '__proto__=1', 'constructor=x', 'limit=1&&&', '%='])}` }),
    () => ({
      method: pick(['POST', 'PUT', 'PATCH']),
      path: rnd() < 0.5 ? ITEMS_PATH : `${ITEMS_PATH}/${itemId}`,
      headers: json,
      body: body('{"name":"a', [0xff, 0xc3, 0x28], '"}'),
    }),
    () => ({ method: 'POST', path: ITEMS_PATH, headers: json, body: body('{"name":"ok","tags":["', [0xed, 0xa0, 0x80], '"]}') }),
    () => ({
      method: pick(['POST', 'PUT', 'PATCH']),
      path: ITEMS_PATH,
      headers: json,
      body: pick([
        '{',
        '[',
        'null',
        '{"name":',
        '"x"',
        '{"name":"\\ud800"}',
        '{"name":"a\\u0000"}',
        '1e999',
        '{"name":1}',
        '[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]',
      ]),
    }),
    () => ({
      method: 'POST',
      path: ITEMS_PATH,
      headers: {
        'content-type': pick([
          'text/plain',
          'application/json; charset=latin1',
          'application/json; charset=utf-16',
          'multipart/form-data; boundary=x',
          'application/x-www-form-urlencoded',
          '*/*',
          'application/json; charset',
        ]),
      },
      body: '{"name":"x"}',
    }),
    () => ({
      method: 'POST',
      path: ITEMS_PATH,
      headers: { ...json, 'content-encoding': pick(['gzip', 'br', 'deflate', 'x-unknown']) },
      body: 'garbage',
    }),
    () => ({ method: 'POST', path: ITEMS_PATH, headers: json, body: `{"name":"${'x'.repeat(101 * 1024)}"}` }),
    () => ({
      raw: Buffer.from(
        `POST /api/items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${50 * 1024 * 1024}\r\n\r\n{"name":`,
      ),
    }),
    () => ({
      method: 'GET',
      path: `/api/items/${itemId}`,
      headers: {
        'x-request-id': pick(['', ' ', 'a'.repeat(500), '../../etc', '\u00e9']),
        accept: pick(['*/*', 'application/xml', 'text/html;q=0', '', 'garbage;;;']),
      },
    }),
    () => ({
      raw: Buffer.from(
        pick([
          'GET /api/items HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello',
          'GET / HTTP/9.9\r\n\r\n',
          'GARBAGE\r\n\r\n',
          'GET /api/items HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
          'POST /api/items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"nam\r\n0\r\n\r\n',
          `GET /api/items/${'%ff'.repeat(2000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
        ]),
      ),
    }),
    () => ({
      method: pick(METHODS),
      path: pick([
        '/api/items/',
        '/api/items//x',
        '/api//items',
        '/api/items/%2F..%2F',
        `/api/items/${itemId}/extra`,
        '/api/items?',
        '/API/ITEMS',
        '/api/items/..%00',
      ]),
    }),
  ];
  return kinds[Math.floor(rnd() * kinds.length)]!();
}

export async function hostileInput(target: Target, count: number, seed = 13): Promise<HostileResult> {
  const rnd = random(seed);
  const pick: Pick = (xs) => xs[Math.floor(rnd() * xs.length)]!;
  const created = await send(target.url, {
    method: 'POST',
    path: ITEMS_PATH,
    headers: { 'content-type': 'application/json' },
    body: '{"name":"target"}',
  });
  const itemId = (JSON.parse(created.body) as { id: string }).id;
  const before = await scrapeSeries(target.url);
  let answered5xx = 0;
  let unanswered = 0;
  const examples: string[] = [];
  const requests = Array.from({ length: count }, () => hostileRequest(rnd, pick, itemId));
  await pool(count, 16, async (i) => {
    const r = requests[i]!;
    if ('raw' in r) {
      const answer = await sendRaw(target.port, r.raw, 2_000);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
      if (status === 0) unanswered++;
      if (status >= 500) {
        answered5xx++;
        if (examples.length < 5) examples.push(`raw ${JSON.stringify(r.raw.subarray(0, 60).toString('latin1'))} -> ${status}`);
      }
      return;
    }
    try {
      const answer = await send(target.url, { ...r, timeoutMs: 2_000 });
      if (answer.status >= 500) {
        answered5xx++;
        if (examples.length < 5) examples.push(`${r.method ?? 'GET'} ${r.path.slice(0, 60)} -> ${answer.status}`);
      }
    } catch {
      unanswered++;
    }
  });
  const after = await scrapeSeries(target.url);
  return {
    tried: count,
    answered5xx,
    counted5xx: total(after, METRIC.requests5xx) - total(before, METRIC.requests5xx),
    unanswered,
    examples,
  };
}

export interface RandomUrlResult {
  readonly tried: number;
  readonly answered5xx: number;
  /** The largest number of series any HTTP family gained. */
  readonly newSeries: number;
}

const URL_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@%/";

export async function randomUrls(target: Target, count: number, seed = 42): Promise<RandomUrlResult> {
  const rnd = random(seed);
  const pick: Pick = (xs) => xs[Math.floor(rnd() * xs.length)]!;
  const before = await scrapeSeries(target.url);
  let answered5xx = 0;
  const segment = () => Array.from({ length: 1 + Math.floor(rnd() * 12) }, () => URL_CHARS[Math.floor(rnd() * URL_CHARS.length)]).join('');
  const path = () => {
    const prefix = pick(['', '/api', '/api/items', '/metrics', '/healthz', '/wp-admin', '/.env']);
    return `${prefix}/${Array.from({ length: 1 + Math.floor(rnd() * 4) }, segment).join('/')}${rnd() < 0.3 ? `?${segment()}=${segment()}` : ''}`.replace(
      /#/g,
      '',
    );
  };
  const specs = Array.from({ length: count }, () => ({
    method: pick(METHODS.filter((m) => m !== 'POST' && m !== 'PUT' && m !== 'PATCH')),
    path: path(),
  }));
  await pool(count, 16, async (i) => {
    try {
      if ((await send(target.url, { ...specs[i]!, timeoutMs: 2_000 })).status >= 500) answered5xx++;
    } catch {
      // a path Node's client or server refuses outright is not a 5xx
    }
  });
  const after = await scrapeSeries(target.url);
  const count_ = (s: Map<string, number>, family: string) => [...s.keys()].filter((k) => k.startsWith(`${family}{`)).length;
  const newSeries = Math.max(...SERIES_FAMILIES.map((f) => count_(after, f) - count_(before, f)));
  return { tried: count, answered5xx, newSeries };
}
