/**
 * Starting and stopping the real components — the API, Prometheus, Alertmanager — as child
 * processes, for `npm run monitoring:local` and the end-to-end tests alike.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The directory holding package.json, from source (ts-jest) or from build/. */
function projectRoot(from: string): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json')) || dir.endsWith('build')) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${from}`);
    dir = up;
  }
  return dir;
}

export const PROJECT_ROOT = projectRoot(__dirname);
export const API_ENTRY = join(PROJECT_ROOT, 'build', 'src', 'server.js');

/** The first of `names` found on PATH. */
export function findBinary(...names: string[]): string | undefined {
  return names.find((name) => spawnSync(name, ['--version'], { stdio: 'ignore' }).status === 0);
}

export const prometheusBinary = (): string | undefined => findBinary('prometheus');
/** Debian installs Alertmanager as `prometheus-alertmanager`; upstream as `alertmanager`. */
export const alertmanagerBinary = (): string | undefined => findBinary('alertmanager', 'prometheus-alertmanager');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
}

export interface Managed {
  readonly name: string;
  readonly child: ChildProcess;
  readonly url: string;
  readonly exited: Promise<number | null>;
  output(): string;
  /** Sends `signal` and resolves with the exit code (null when killed by a signal). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartOptions {
  readonly env?: Record<string, string>;
  /** Polled until it answers 200. */
  readonly readyUrl: string;
  readonly url: string;
  readonly timeoutMs?: number;
  /** Copy the process's output to this stream as well. */
  readonly echo?: NodeJS.WritableStream;
  /** Working directory. @default this process's */
  readonly cwd?: string;
}

export async function startProcess(name: string, command: string, args: readonly string[], options: StartOptions): Promise<Managed> {
  const child = spawn(command, args, { env: { ...process.env, ...options.env }, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const collect = (chunk: Buffer) => {
    out = (out + chunk.toString()).slice(-200_000);
    options.echo?.write(chunk);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let dead = false;
  void exited.then(() => (dead = true));
  const managed: Managed = {
    name,
    child,
    url: options.url,
    exited,
    output: () => out,
    async stop(signal = 'SIGTERM') {
      if (!dead) child.kill(signal);
      return exited;
    },
  };
  try {
    await waitFor(
      `${name} at ${options.readyUrl}`,
      async () => {
        if (dead) throw new Error(`${name} exited:\n${out.slice(-3000)}`);
        const res = await fetch(options.readyUrl);
        return res.status === 200 ? true : undefined;
      },
      options.timeoutMs ?? 30_000,
    );
  } catch (err) {
    await managed.stop('SIGKILL');
    throw err;
  }
  return managed;
}

export async function startApi(port: number, env: Record<string, string> = {}, echo?: NodeJS.WritableStream): Promise<Managed> {
  const url = `http://127.0.0.1:${port}`;
  return startProcess('API', process.execPath, [API_ENTRY], { env: { PORT: String(port), ...env }, url, readyUrl: `${url}/readyz`, echo });
}

export interface PrometheusOptions {
  readonly configFile: string;
  readonly dataDir: string;
  readonly port: number;
  readonly retention?: string;
  readonly echo?: NodeJS.WritableStream;
}

export async function startPrometheus(o: PrometheusOptions): Promise<Managed> {
  const binary = prometheusBinary();
  if (binary === undefined) throw new Error('prometheus is not installed (apt-get install prometheus)');
  const url = `http://127.0.0.1:${o.port}`;
  return startProcess(
    'Prometheus',
    binary,
    [
      `--config.file=${o.configFile}`,
      `--storage.tsdb.path=${o.dataDir}`,
      `--storage.tsdb.retention.time=${o.retention ?? '15d'}`,
      `--web.listen-address=127.0.0.1:${o.port}`,
    ],
    { url, readyUrl: `${url}/-/ready`, echo: o.echo },
  );
}

export async function startAlertmanager(o: {
  configFile: string;
  dataDir: string;
  port: number;
  echo?: NodeJS.WritableStream;
}): Promise<Managed> {
  const binary = alertmanagerBinary();
  if (binary === undefined) throw new Error('alertmanager is not installed (apt-get install prometheus-alertmanager)');
  const url = `http://127.0.0.1:${o.port}`;
  return startProcess(
    'Alertmanager',
    binary,
    [
      `--config.file=${o.configFile}`,
      `--storage.path=${o.dataDir}`,
      `--web.listen-address=127.0.0.1:${o.port}`,
      // A single instance: no gossip listener.
      '--cluster.listen-address=',
    ],
    { url, readyUrl: `${url}/-/ready`, echo: o.echo },
  );
}
