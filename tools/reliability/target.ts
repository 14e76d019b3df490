/**
 * The server under test (the built server, or any other build given with --server) as a child
 * process on loopback, and the small HTTP clients the scenarios use. Every wait is bounded.
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import type { Agent } from 'node:http';
import { connect } from 'node:net';
import { METRICS_PATH } from '../../src/contract';
import { startServer } from '../lib/processes';
import type { Managed } from '../lib/processes';

export interface Target extends Managed {
  readonly port: number;
  /** Resident memory now, in bytes (from /proc). */
  rss(): number;
}

export interface TargetOptions {
  readonly entry: string;
  readonly env: Record<string, string>;
  /** Wait for the store too, not just the listener. @default true */
  readonly waitForStore?: boolean;
  readonly timeoutMs?: number;
}

export async function startTarget(o: TargetOptions): Promise<Target> {
  const server = await startServer({ HOST: '127.0.0.1', ...o.env }, o);
  return {
    ...server,
    port: Number(new URL(server.url).port),
    rss: () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.child.pid}/status`, 'utf8'))?.[1] ?? 0) * 1024,
  };
}

export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

export interface RequestSpec {
  readonly method?: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: Buffer | string;
  readonly agent?: Agent | false;
  /** Give up after this long (the request then counts as unanswered). @default 5000 */
  readonly timeoutMs?: number;
}

/** One HTTP request; resolves with the answer, or rejects with the socket error or a timeout. */
export function send(base: string, spec: RequestSpec): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = spec.body === undefined ? undefined : Buffer.from(spec.body);
    const headers = { ...(body === undefined ? {} : { 'content-length': String(body.length) }), ...spec.headers };
    const req = httpRequest(`${base}${spec.path}`, { method: spec.method ?? 'GET', headers, agent: spec.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.setTimeout(spec.timeoutMs ?? 5_000, () => req.destroy(Object.assign(new Error('timed out'), { code: 'TIMEOUT' })));
    req.on('error', reject);
    req.end(body);
  });
}

/** Sends raw bytes on a new connection; resolves with what came back before it closed or `timeoutMs`. */
export function sendRaw(port: number, bytes: Buffer | string, timeoutMs = 3_000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    let out = '';
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(out);
    };
    const timer = setTimeout(done, timeoutMs);
    socket.setEncoding('latin1');
    socket.on('data', (c: string) => {
      out += c;
      // One complete answer is enough (the connection may stay open).
      if (/\r\n\r\n/.test(out) && /content-length: (\d+)/i.test(out)) {
        const length = Number(/content-length: (\d+)/i.exec(out)![1]);
        if (out.length - out.indexOf('\r\n\r\n') - 4 >= length) done();
      }
    });
    socket.on('close', done);
    socket.on('error', done);
  });
}

/** The samples of `/metrics`, as name{labels} -> value. */
export async function scrapeSeries(base: string): Promise<Map<string, number>> {
  const text = (await send(base, { path: METRICS_PATH })).body;
  const series = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    series.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return series;
}

/** Sum of the samples of `family` (exact name, any labels). */
export function total(series: Map<string, number>, family: string): number {
  let sum = 0;
  for (const [key, value] of series) if (key === family || key.startsWith(`${family}{`)) sum += value;
  return sum;
}

/** Deterministic pseudo-random numbers (mulberry32), so every run draws the same requests. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs `task(i)` for i in [0, count) with at most `concurrency` at once. */
export async function pool(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}
