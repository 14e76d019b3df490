/**
 * Process deaths: `kill -9` during writes (every acknowledged write must be there after a
 * restart) and SIGTERM under busy keep-alive clients (no request may fail, no connection may be
 * reset under a request).
 */
import { Agent } from 'node:http';
import type { Target, TargetOptions } from './target';
import { send, startTarget } from './target';
import { ITEMS_PATH } from '../../src/contract';

export interface KillResult {
  readonly rounds: number;
  readonly acknowledged: number;
  readonly present: number;
}

/** `rounds` times: write with `writers` clients for `writeMs`, kill -9, restart, read every acknowledged item. */
export async function killDuringWrites(options: TargetOptions, rounds: number, writeMs: number, writers = 8): Promise<KillResult> {
  let acknowledged = 0;
  let present = 0;
  for (let round = 0; round < rounds; round++) {
    const target = await startTarget(options);
    const ids: string[] = [];
    let killed = false;
    const writer = async () => {
      for (let n = 0; n < 100_000 && !killed; n++) {
        try {
          const res = await send(target.url, {
            method: 'POST',
            path: ITEMS_PATH,
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ name: `kill-${round}-${n}`, tags: ['durable'] }),
            timeoutMs: 5_000,
          });
          if (res.status === 201) ids.push((JSON.parse(res.body) as { id: string }).id);
        } catch {
          return; // the process is gone
        }
      }
    };
    const writing = Array.from({ length: writers }, writer);
    await new Promise((r) => setTimeout(r, writeMs));
    target.child.kill('SIGKILL');
    killed = true;
    await target.exited;
    await Promise.all(writing);

    const restarted = await startTarget(options);
    try {
      acknowledged += ids.length;
      for (const id of ids) if ((await send(restarted.url, { path: `/api/items/${id}` })).status === 200) present++;
    } finally {
      await restarted.stop();
    }
  }
  return { rounds, acknowledged, present };
}

export interface DrainResult {
  readonly connections: number;
  /** Requests answered with anything but 2xx, or not at all for another reason than a reset. */
  readonly failed: number;
  /** Requests whose connection was reset or closed under them. */
  readonly reset: number;
  readonly exitCode: number | null;
  readonly drainMs: number;
}

/** `connections` clients, each sending requests one after another on its own keep-alive connection; SIGTERM once all are under way. */
export async function sigtermUnderKeepAlive(options: TargetOptions, connections: number): Promise<DrainResult> {
  const target: Target = await startTarget({ ...options, env: { ...options.env, FAULT_INJECTION: 'true' } });
  let failed = 0;
  let reset = 0;
  const answered = new Set<number>();
  const client = async (i: number) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let n = 0; n < 10_000; n++) {
        const res = await send(target.url, {
          path: `${ITEMS_PATH}?limit=5`,
          agent,
          headers: { 'x-fault-delay-ms': String(i % 20) },
          timeoutMs: 15_000,
        });
        answered.add(i);
        if (res.status >= 300) failed++;
        if (res.headers.connection === 'close') return;
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ECONNRESET' || code === 'EPIPE' || (err as Error).message === 'socket hang up') reset++;
      else failed++;
    } finally {
      agent.destroy();
    }
  };
  const clients = Array.from({ length: connections }, (_, i) => client(i));
  // Every connection established and kept alive before the signal (bounded wait).
  for (let waited = 0; answered.size < connections && waited < 20_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
  const signalled = performance.now();
  target.child.kill('SIGTERM');
  const exitCode = await target.exited;
  const drainMs = performance.now() - signalled;
  await Promise.all(clients);
  return { connections, failed, reset, exitCode, drainMs };
}
