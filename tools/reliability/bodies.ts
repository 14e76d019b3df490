/**
 * Amplifying bodies: requests under the body limit whose validation could cost far more than
 * their size (deep nesting, one error per string, one error per unknown field, quadratic
 * checks). Each must be answered 4xx quickly, with a small answer, while /healthz stays fast.
 */
import { ITEMS_PATH, HEALTH_PATH } from '../../src/contract';
import { send } from './target';
import type { Target } from './target';

/** The largest body the API accepts (src/http/validation.ts); every body here stays under it. */
const BODY_BUDGET = 98 * 1024;
const INVALID = Buffer.from([0xff]);

/**
 * `depth` nested arrays, each holding as many strings of one invalid UTF-8 byte as fit in the
 * budget: one error per string, each naming a path as long as the nesting.
 */
export function deepInvalidUtf8(depth: number): Buffer {
  const perLevel = Math.max(1, Math.floor((BODY_BUDGET - 20 - depth * 2) / depth / 4));
  const strings = Buffer.concat(Array.from({ length: perLevel }, () => Buffer.concat([Buffer.from('"'), INVALID, Buffer.from('",')])));
  const level = Buffer.concat([Buffer.from('['), strings]);
  return Buffer.concat([
    Buffer.from('{"name":"x","tags":'),
    ...Array.from({ length: depth }, () => level),
    Buffer.from('0'),
    Buffer.from(']'.repeat(depth)),
    Buffer.from('}'),
  ]);
}

/** Valid JSON nested as deep as the budget allows: `[[[…]]]`. */
export function deepArrays(): Buffer {
  const depth = Math.floor((BODY_BUDGET - 40) / 2);
  return Buffer.from(`{"name":"x","tags":${'['.repeat(depth)}${']'.repeat(depth)}}`);
}

/** An object of as many unknown fields as fit: one error per field. */
export function unknownFields(): Buffer {
  const fields: string[] = [];
  let size = 20;
  for (let i = 0; size < BODY_BUDGET; i++) {
    const field = `"f${i}":0`;
    fields.push(field);
    size += field.length + 1;
  }
  return Buffer.from(`{"name":"x",${fields.join(',')}}`);
}

/** As many distinct tags as fit: a duplicate check that compares every pair is quadratic. */
export function distinctTags(): Buffer {
  const tags: string[] = [];
  let size = 30;
  for (let i = 0; size < BODY_BUDGET; i++) {
    const tag = `"${i.toString(36)}"`;
    tags.push(tag);
    size += tag.length + 1;
  }
  return Buffer.from(`{"name":"x","tags":[${tags.join(',')}]}`);
}

export const AMPLIFYING_BODIES: Readonly<Record<string, () => Buffer>> = {
  'invalid UTF-8 nested 300 deep': () => deepInvalidUtf8(300),
  'invalid UTF-8 nested 1,800 deep': () => deepInvalidUtf8(1_800),
  'arrays nested 25,000 deep': deepArrays,
  'unknown fields': unknownFields,
  'distinct tags': distinctTags,
};

export interface BodyResult {
  readonly name: string;
  readonly requestBytes: number;
  readonly status: number;
  readonly responseBytes: number;
  readonly ms: number;
  /** Slowest /healthz answer while the request was under way. */
  readonly healthzMaxMs: number;
}

/** Sends one body while a second client polls /healthz, and measures both. */
async function sendWhilePolling(target: Target, name: string, body: Buffer, timeoutMs: number): Promise<BodyResult> {
  let done = false;
  let healthzMaxMs = 0;
  const poll = (async () => {
    while (!done) {
      const t0 = performance.now();
      await send(target.url, { path: HEALTH_PATH, timeoutMs }).catch(() => undefined);
      healthzMaxMs = Math.max(healthzMaxMs, performance.now() - t0);
    }
  })();
  const t0 = performance.now();
  const answer = await send(target.url, {
    method: 'POST',
    path: ITEMS_PATH,
    headers: { 'content-type': 'application/json' },
    body,
    timeoutMs,
  }).catch(() => ({ status: 0, body: '' }));
  const ms = performance.now() - t0;
  done = true;
  await poll;
  return {
    name,
    requestBytes: body.length,
    status: answer.status,
    responseBytes: Buffer.byteLength(answer.body),
    ms: Math.round(ms),
    healthzMaxMs: Math.round(healthzMaxMs),
  };
}

/** Each amplifying body in turn (status 0: no answer within `timeoutMs`). */
export async function amplifyingBodies(target: Target, timeoutMs: number): Promise<BodyResult[]> {
  const results: BodyResult[] = [];
  for (const [name, make] of Object.entries(AMPLIFYING_BODIES)) results.push(await sendWhilePolling(target, name, make(), timeoutMs));
  return results;
}
