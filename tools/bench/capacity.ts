/**
 * `npm run bench -- --capacity`: what one API process serves, for the autoscaler's target
 * (autoscaling.keda.requestsPerSecondPerPod). The built server (as the image runs it), on the
 * embedded store or on the PostgreSQL of DATABASE_URL, answers GET /api/items/:id under
 * autocannon at rising connection counts; each step reports req/s, p50/p99 and the CPU the
 * process used (from /proc), so the throughput a share of a core gives follows.
 */
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { freePort, startApi } from '../lib/processes';

export interface CapacityStep {
  readonly connections: number;
  readonly reqPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Cores the server process used on average (1 = one core busy). */
  readonly cores: number;
  /** Requests per second per core of CPU used: what a pod with a CPU request of 1 would serve. */
  readonly reqPerCoreSecond: number;
}

/** CPU seconds (user + system) process `pid` has used: fields 14 and 15 of /proc/<pid>/stat, in clock ticks. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Linux's USER_HZ is 100 on every architecture Node supports.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export async function measureCapacity(
  connectionSteps: readonly number[],
  seconds: number,
  databaseUrl: string | undefined,
): Promise<CapacityStep[]> {
  const port = await freePort();
  // autocannon keeps its connections: without MAX_REQUESTS_PER_SOCKET's limit, the socket's 101st request is not a 503.
  const env: Record<string, string> = {
    LOG_LEVEL: 'silent',
    MAX_REQUESTS_PER_SOCKET: '0',
    DATA_DIR: join(tmpdir(), `capacity-${process.pid}-${Date.now()}`),
  };
  if (databaseUrl !== undefined) env.DATABASE_URL = databaseUrl;
  const api = await startApi(port, env);
  try {
    const created = await fetch(`${api.url}/api/items`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'capacity', tags: ['a', 'b'] }),
    });
    const { id } = (await created.json()) as { id: string };
    const url = `${api.url}/api/items/${id}`;
    await autocannon({ url, connections: 10, duration: 2 });
    const steps: CapacityStep[] = [];
    for (const connections of connectionSteps) {
      const before = cpuSeconds(api.child.pid!);
      const started = process.hrtime.bigint();
      const r = await autocannon({ url, connections, duration: seconds });
      const wall = Number(process.hrtime.bigint() - started) / 1e9;
      if (r.non2xx > 0 || r.errors > 0) {
        throw new Error(`${connections} connections: ${r.non2xx} non-2xx (${JSON.stringify(r.statusCodeStats)}), ${r.errors} errors`);
      }
      const cores = (cpuSeconds(api.child.pid!) - before) / wall;
      steps.push({
        connections,
        reqPerSec: r.requests.average,
        p50Ms: r.latency.p50,
        p99Ms: r.latency.p99,
        cores,
        reqPerCoreSecond: r.requests.average / cores,
      });
    }
    return steps;
  } finally {
    await api.stop();
  }
}
