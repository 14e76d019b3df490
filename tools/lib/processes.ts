/**
 * Child processes for the tools and the tests alike: start one, wait for a condition (a line of
 * its output, a URL answering 2xx, its exit) and stop it with SIGTERM, then SIGKILL after a grace
 * period. A command that cannot be spawned (ENOENT, EACCES) rejects with its name rather than
 * leaving a promise pending. On top: the built server, Prometheus and Alertmanager.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

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
/**
 * Node's flags for the server, the same in `npm start` and the image's CMD (a test holds the
 * three together). V8's young generation at 8 MB a semi-space instead of 16: 14–20 MB less
 * resident under load on either store, with the same CPU per request (README, "Memory of the
 * embedded store"). Not settable from inside the process: V8 sizes its heap at start.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8'];
/** The arguments of `node` that run the built server (or another `entry`) as it is deployed. */
export const serverArgs = (entry: string = API_ENTRY): string[] => [...SERVER_NODE_FLAGS, entry];

/** How long `stop()` waits after its signal before it sends SIGKILL. */
export const STOP_GRACE_MS = 10_000;
/** How long one readiness probe may take. */
const PROBE_TIMEOUT_MS = 5_000;
/** Output kept of a long run: the head (startup lines) and the latest tail. */
const KEEP_HEAD = 100_000;
const KEEP_TAIL = 200_000;

/** Children started here that have not exited yet. */
const live = new Set<ChildProcess>();

/**
 * From now on, SIGTERM or SIGINT to this process SIGKILLs every child it started that still
 * runs, then exits 128 + the signal's number: a tool stopped by a timeout or Ctrl-C leaves no
 * server behind, holding a port and a data directory. For tools that do not stop their children
 * gracefully themselves (monitoring:local does).
 */
export function killChildrenOnSignal(): void {
  for (const [signal, code] of [
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const) {
    process.once(signal, () => {
      for (const child of live) child.kill('SIGKILL');
      process.exit(code);
    });
  }
}

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

/**
 * Polls `probe` (sync or async) until it returns a value other than undefined (a thrown error counts as not yet)
 * and resolves with it; rejects after `timeoutMs`, or at once with the reason when `signal` aborts.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 30_000,
  intervalMs = 200,
  signal?: AbortSignal,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    signal?.throwIfAborted();
    try {
      // A probe that never settles must not outlive the deadline or the abort.
      const value = await raceDeadline(Promise.resolve().then(probe), deadline, signal);
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    signal?.throwIfAborted();
    const left = deadline - Date.now();
    if (left <= 0) break;
    await sleep(Math.min(intervalMs, left), undefined, { signal }).catch(() => undefined);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
}

/** `work`, or a rejection once `deadline` (epoch ms) passes or `signal` aborts, whichever comes first. */
function raceDeadline<T>(work: Promise<T>, deadline: number, signal?: AbortSignal): Promise<T> {
  const limit = AbortSignal.timeout(Math.max(0, deadline - Date.now()));
  const stop = signal === undefined ? limit : AbortSignal.any([limit, signal]);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal?.aborted ? (signal.reason as Error) : new Error('the probe did not settle before the deadline'));
    if (stop.aborted) return onAbort();
    stop.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => stop.removeEventListener('abort', onAbort));
  });
}

/** Whether `url` answers 2xx within PROBE_TIMEOUT_MS. */
async function answersOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
  await res.body?.cancel();
  return res.ok;
}

export interface RunningProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /**
   * Resolves with the exit code (null when a signal ended the process) once it has exited and its
   * output is read; rejects when the command could not be spawned.
   */
  readonly exited: Promise<number | null>;
  /** What the process wrote to stdout and stderr (of a long run: the start and the latest part). */
  output(): string;
  /** Resolves with the first match of `pattern` in the output; rejects if the process exits first, or after `timeoutMs`. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Like `waitFor`, but rejects as soon as the process exits. */
  waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs?: number, intervalMs?: number): Promise<T>;
  /** Sends `signal`, then SIGKILL if the process still runs after `graceMs`; resolves with the exit code. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | null>;
}

/** A process that is up, and where it answers. */
export interface Managed extends RunningProcess {
  readonly url: string;
}

export interface SpawnOptions {
  /** Added to the environment. */
  readonly env?: Record<string, string>;
  /** Start from this process's environment; otherwise from PATH alone. @default true */
  readonly inheritEnv?: boolean;
  /** Working directory. @default this process's */
  readonly cwd?: string;
  /** Copy the process's output to this stream as well. */
  readonly echo?: NodeJS.WritableStream;
}

/** Spawns `command` with its stdout and stderr collected; see RunningProcess. */
export function spawnProcess(name: string, command: string, args: readonly string[], options: SpawnOptions = {}): RunningProcess {
  const base = (options.inheritEnv ?? true) ? process.env : { PATH: process.env.PATH };
  const child = spawn(command, args, { env: { ...base, ...options.env }, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  child.once('error', () => child.pid === undefined && live.delete(child));
  let out = '';
  const listeners = new Set<() => void>();
  const collect = (chunk: Buffer): void => {
    out += chunk.toString();
    if (out.length > 2 * (KEEP_HEAD + KEEP_TAIL)) out = out.slice(0, KEEP_HEAD) + out.slice(-KEEP_TAIL);
    options.echo?.write(chunk);
    for (const listener of listeners) listener();
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const tail = (): string => out.slice(-3000);

  const exited = new Promise<number | null>((resolve, reject) => {
    // Without a listener an 'error' event would throw; before a pid it means nothing was started.
    child.on('error', (err) => {
      if (child.pid === undefined) reject(new Error(`${name}: could not start ${command}: ${err.message}`, { cause: err }));
    });
    child.once('close', (code) => resolve(code));
  });
  // Whoever awaits `exited` sees the rejection; nobody awaiting it is not an unhandled one.
  exited.catch(() => undefined);
  const running = (): boolean => child.pid !== undefined && child.exitCode === null && child.signalCode === null;

  // Aborted once the process has gone, with why, so that waits on it end at once.
  const gone = new AbortController();
  let goneBecause = new Error(`${name} has not exited`);
  const goneWith = (err: Error): void => {
    goneBecause = err;
    gone.abort(err);
  };
  exited.then(
    (code) => goneWith(new Error(`${name} exited with ${code}:\n${tail()}`)),
    (err: Error) => goneWith(err),
  );

  return {
    name,
    child,
    exited,
    output: () => out,
    waitForOutput(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const finish = (): void => {
          listeners.delete(check);
          gone.signal.removeEventListener('abort', onGone);
          clearTimeout(timer);
        };
        const check = (): void => {
          const match = pattern.exec(out);
          if (match === null) return;
          finish();
          resolve(match);
        };
        const onGone = (): void => {
          check();
          if (!listeners.has(check)) return;
          finish();
          reject(goneBecause);
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`${name}: no output matching ${pattern} within ${timeoutMs} ms:\n${tail()}`));
        }, timeoutMs);
        listeners.add(check);
        gone.signal.addEventListener('abort', onGone);
        check();
        if (gone.signal.aborted) onGone();
      });
    },
    waitFor: (what, probe, timeoutMs, intervalMs) => waitFor(what, probe, timeoutMs, intervalMs, gone.signal),
    async stop(signal = 'SIGTERM', graceMs = STOP_GRACE_MS) {
      if (running()) {
        child.kill(signal);
        if (signal !== 'SIGKILL') {
          const escalate = setTimeout(() => running() && child.kill('SIGKILL'), graceMs);
          await exited.catch(() => undefined);
          clearTimeout(escalate);
        }
      }
      return exited;
    },
  };
}

/** Runs `command` to its end, bounded by `timeoutMs` (then stopped); resolves with its exit code and output. */
export async function runProcess(
  name: string,
  command: string,
  args: readonly string[],
  options: SpawnOptions & { readonly timeoutMs?: number } = {},
): Promise<{ code: number | null; output: string }> {
  const p = spawnProcess(name, command, args, options);
  const timeoutMs = options.timeoutMs ?? 120_000;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void p.stop();
  }, timeoutMs);
  try {
    const code = await p.exited;
    if (timedOut) throw new Error(`${name} did not finish within ${timeoutMs} ms:\n${p.output().slice(-3000)}`);
    return { code, output: p.output() };
  } finally {
    clearTimeout(timer);
  }
}

export interface StartOptions extends SpawnOptions {
  /** Polled until it answers 2xx. */
  readonly readyUrl: string;
  readonly url: string;
  /** @default 30000 */
  readonly timeoutMs?: number;
}

/** Starts a process and resolves once `readyUrl` answers 2xx; kills it when it does not. */
export async function startProcess(name: string, command: string, args: readonly string[], options: StartOptions): Promise<Managed> {
  const p = spawnProcess(name, command, args, options);
  try {
    await p.waitFor(
      `${name} at ${options.readyUrl}`,
      async () => ((await answersOk(options.readyUrl)) ? true : undefined),
      options.timeoutMs,
    );
  } catch (err) {
    await p.stop('SIGKILL');
    throw err;
  }
  return { ...p, url: options.url };
}

export interface ServerOptions {
  /** The server's entry file. @default API_ENTRY, the built server */
  readonly entry?: string;
  /** Wait for the store too, not just the listener. @default true */
  readonly waitForStore?: boolean;
  /** Opening the store (a first initdb) is part of starting; on a busy machine it takes a while. @default 60000 */
  readonly timeoutMs?: number;
}

/** The server's log line once it listens, with the port it got. */
const LISTENING = /"port":(\d+)[^\n]*"msg":"listening/;
const STORE_READY = /"msg":"store ready"/;

/**
 * Starts the built server on an ephemeral port, from PATH and `env` alone, and resolves once it
 * logs that it listens and, unless `waitForStore` is false, that its store is ready.
 */
export async function startServer(env: Record<string, string>, o: ServerOptions = {}): Promise<Managed> {
  const p = spawnProcess('server', process.execPath, serverArgs(o.entry), {
    inheritEnv: false,
    env: { PORT: '0', LOG_LEVEL: 'info', ...env },
  });
  const deadline = Date.now() + (o.timeoutMs ?? 60_000);
  try {
    const [, port] = await p.waitForOutput(LISTENING, deadline - Date.now());
    if (o.waitForStore ?? true) await p.waitForOutput(STORE_READY, Math.max(1, deadline - Date.now()));
    return { ...p, url: `http://127.0.0.1:${port}` };
  } catch (err) {
    await p.stop('SIGKILL'); // never leave a half-started server behind
    throw err;
  }
}

/** Runs the built server to completion (for boots that must fail), from PATH and `env` alone. */
export function runServer(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return runProcess('server', process.execPath, serverArgs(), { inheritEnv: false, env, timeoutMs: 60_000 });
}

/** The built server on `port`, with this process's environment plus `env`, once /readyz answers. */
export async function startApi(port: number, env: Record<string, string> = {}, echo?: NodeJS.WritableStream): Promise<Managed> {
  const url = `http://127.0.0.1:${port}`;
  return startProcess('API', process.execPath, serverArgs(), { env: { PORT: String(port), ...env }, url, readyUrl: `${url}/readyz`, echo });
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
