/**
 * Overload: clients that pipeline without reading (memory must stay bounded and /healthz
 * quick), and clients that send their headers slowly (timed out, without hurting others).
 */
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import type { Target } from './target';
import { send } from './target';
import { HEALTH_PATH, ITEMS_PATH } from '../../src/contract';

export interface FloodResult {
  readonly sockets: number;
  readonly requests: number;
  readonly rssBeforeMb: number;
  readonly peakRssMb: number;
  /** Resident memory 2 s after the sockets closed. */
  readonly rssAfterMb: number;
  /** Slowest /healthz answer during the flood (or the flood's length when one never came). */
  readonly healthzMaxMs: number;
  /** Statuses of the answers that were read, e.g. {200: 950, 503: 50}. */
  readonly statuses: Record<string, number>;
}

const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

/** Fills the store with `count` items of about 1 kB, so that a page of 100 is about 100 kB. */
export async function seed(target: Target, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await send(target.url, {
      method: 'POST',
      path: ITEMS_PATH,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: `seed ${i}`, description: 'd'.repeat(900), tags: ['seed'] }),
    });
  }
}

/** `sockets` connections each pipelining `perSocket` list requests, unread for `holdMs`, then read to the end (at most `readMs`). */
export async function pipelineFlood(
  target: Target,
  sockets: number,
  perSocket: number,
  holdMs: number,
  readMs: number,
): Promise<FloodResult> {
  const rssBefore = target.rss();
  let peak = rssBefore;
  const sampler = setInterval(() => {
    try {
      peak = Math.max(peak, target.rss());
    } catch {
      // the process is gone; the flood result says so through /healthz
    }
  }, 100);
  const open: Socket[] = [];
  for (let s = 0; s < sockets; s++) {
    const socket = connect(target.port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write(`GET /api/items?limit=100 HTTP/1.1\r\nHost: flood\r\n\r\n`.repeat(perSocket));
    socket.pause(); // never read: responses pile up on the server side
    open.push(socket);
  }
  let healthzMaxMs = 0;
  const started = performance.now();
  while (performance.now() - started < holdMs) {
    const t0 = performance.now();
    try {
      await send(target.url, { path: HEALTH_PATH, timeoutMs: Math.max(100, holdMs - (t0 - started)) });
    } catch {
      // counted as slow as the wait
    }
    healthzMaxMs = Math.max(healthzMaxMs, performance.now() - t0);
    await new Promise((r) => setTimeout(r, 200));
  }
  // Now read what was answered, bounded in time, keeping only the status lines.
  const statuses: Record<string, number> = {};
  await Promise.all(
    open.map(
      (socket) =>
        new Promise<void>((resolve) => {
          let tail = '';
          let answers = 0;
          const done = () => {
            clearTimeout(timer);
            socket.destroy();
            resolve();
          };
          const timer = setTimeout(done, readMs);
          socket.setEncoding('latin1');
          socket.on('data', (c: string) => {
            const text = tail + c;
            for (const m of text.matchAll(/HTTP\/1\.1 (\d{3}) /g)) {
              statuses[m[1]!] = (statuses[m[1]!] ?? 0) + 1;
              answers++;
            }
            tail = text.slice(-16);
            if (answers >= perSocket) done();
          });
          socket.on('close', done);
          socket.resume();
        }),
    ),
  );
  clearInterval(sampler);
  await new Promise((r) => setTimeout(r, 2_000));
  let after: number;
  try {
    after = target.rss();
  } catch {
    after = 0;
  }
  return {
    sockets,
    requests: sockets * perSocket,
    rssBeforeMb: mb(rssBefore),
    peakRssMb: mb(peak),
    rssAfterMb: mb(after),
    healthzMaxMs: Math.round(healthzMaxMs),
    statuses,
  };
}

export interface SlowResult {
  readonly held: number;
  readonly timedOut: number;
  /** Longest time a slow client held its connection before the server ended it. */
  readonly maxHeldMs: number;
  /** Slowest answer to a normal client meanwhile. */
  readonly othersMaxMs: number;
}

/** `clients` connections sending one header byte per second; waits at most `limitMs` for the server to end each. */
export async function slowClients(target: Target, clients: number, limitMs: number): Promise<SlowResult> {
  let timedOut = 0;
  let maxHeldMs = 0;
  const request = 'GET /api/items HTTP/1.1\r\nHost: slow\r\nX-Slow: ' + 'a'.repeat(10_000);
  const slow = Array.from(
    { length: clients },
    () =>
      new Promise<void>((resolve) => {
        const t0 = performance.now();
        const socket = connect(target.port, '127.0.0.1');
        let sent = 0;
        let answer = '';
        const drip = setInterval(() => socket.write(request[sent++ % request.length]!), 1_000);
        const finish = (ended: boolean) => {
          clearInterval(drip);
          clearTimeout(limit);
          if (ended) {
            timedOut++;
            maxHeldMs = Math.max(maxHeldMs, performance.now() - t0);
          }
          socket.destroy();
          resolve();
        };
        const limit = setTimeout(() => finish(false), limitMs);
        socket.on('data', (c: Buffer) => (answer += c.toString()));
        socket.on('close', () => finish(answer.startsWith('HTTP/1.1 408') || answer === ''));
        socket.on('error', () => undefined);
      }),
  );
  let othersMaxMs = 0;
  let running = true;
  const others = (async () => {
    while (running) {
      const t0 = performance.now();
      await send(target.url, { path: `${ITEMS_PATH}?limit=5`, timeoutMs: limitMs }).catch(() => undefined);
      othersMaxMs = Math.max(othersMaxMs, performance.now() - t0);
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  await Promise.all(slow);
  running = false;
  await others;
  return { held: clients, timedOut, maxHeldMs: Math.round(maxHeldMs), othersMaxMs: Math.round(othersMaxMs) };
}
