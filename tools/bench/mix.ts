/**
 * The request mix of the real-app comparison: 60% GET by id, 20% list, 10% POST, 5% PATCH, 5%
 * DELETE on a store seeded with items, as a fixed cycle of 20 requests every connection walks
 * through (the same mix for every app, every round). Reads and patches hit seeded items; a
 * DELETE removes an item a POST of the same run created, so every answer is a 2xx.
 */
import autocannon from 'autocannon';

/** One cycle: 12 GET by id, 4 lists, 2 POSTs, 1 PATCH, 1 DELETE, interleaved. */
const CYCLE = [
  'get',
  'list',
  'get',
  'post',
  'get',
  'get',
  'list',
  'get',
  'patch',
  'get',
  'get',
  'list',
  'get',
  'post',
  'get',
  'delete',
  'get',
  'list',
  'get',
  'get',
] as const;
const NO_SUCH_ID = '00000000-0000-4000-8000-00000000dead';
const JSON_HEADERS = { 'content-type': 'application/json' };

export interface MixResult {
  requests: number;
  reqPerSec: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  /** Answers by status code. */
  statuses: Record<string, number>;
}

/** Creates `count` items through the API, 20 at a time; resolves with their ids. */
export async function seed(url: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  const one = async (i: number) => {
    const res = await fetch(`${url}/api/items`, {
      method: 'POST',
      headers: JSON_HEADERS,
      body: JSON.stringify({ name: `seeded ${i}`, description: 'an item of the benchmark', tags: ['bench', `t${i % 10}`] }),
    });
    if (res.status !== 201) throw new Error(`seeding ${url}: POST answered ${res.status}`);
    ids.push(((await res.json()) as { id: string }).id);
  };
  for (let i = 0; i < count; i += 20) await Promise.all(Array.from({ length: Math.min(20, count - i) }, (_, j) => one(i + j)));
  return ids;
}

/** Runs the mix against `url` for `seconds` with `connections` connections. */
export async function runMix(url: string, ids: readonly string[], seconds: number, connections = 50): Promise<MixResult> {
  const created: string[] = [];
  let n = 0;
  const anyId = () => ids[n++ % ids.length]!;
  const requests: autocannon.Request[] = CYCLE.map((op) => {
    switch (op) {
      case 'get':
        return { method: 'GET', setupRequest: (req) => ({ ...req, path: `/api/items/${anyId()}` }) };
      case 'list':
        return { method: 'GET', path: '/api/items?limit=20' };
      case 'post':
        return {
          method: 'POST',
          path: '/api/items',
          headers: JSON_HEADERS,
          body: JSON.stringify({ name: 'Widget', description: 'A small widget', tags: ['blue', 'new'] }),
          onResponse: (status, body) => {
            if (status === 201) created.push((JSON.parse(body) as { id: string }).id);
          },
        };
      case 'patch':
        return {
          method: 'PATCH',
          headers: JSON_HEADERS,
          body: JSON.stringify({ tags: ['red'] }),
          setupRequest: (req) => ({ ...req, path: `/api/items/${anyId()}` }),
        };
      case 'delete':
        // A connection reaches its DELETE after its POST, so some created item is always there
        // (were none, the unknown id answers 404 and the run reports it, seeded items untouched).
        return { method: 'DELETE', setupRequest: (req) => ({ ...req, path: `/api/items/${created.shift() ?? NO_SUCH_ID}` }) };
    }
  });
  const r = await autocannon({ url, connections, duration: seconds, pipelining: 1, requests });
  return {
    requests: r.requests.total,
    reqPerSec: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors,
    statuses: Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([code, { count }]) => [code, count ?? 0])),
  };
}
