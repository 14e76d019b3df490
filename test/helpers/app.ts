/** Starts the real app on an ephemeral port with a real store, as server.ts would. */
import { createServer, request as httpRequest } from 'node:http';
import type { Agent, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createApp } from '../../src/app';
import type { AppDeps } from '../../src/app';
import { InFlight } from '../../src/http/in-flight';
import { Lifecycle } from '../../src/lifecycle';
import { HttpMetrics } from '../../src/metrics/registry';
import { openStore } from '../../src/store';
import type { ItemStore } from '../../src/store';
import type { Item } from '../../src/store/types';
import type { FieldError, ProblemCode } from '../../src/http/problems';
import { observeResponses } from './contract';

export interface RunningApp {
  readonly url: string;
  readonly server: Server;
  readonly store: ItemStore;
  readonly metrics: HttpMetrics;
  readonly lifecycle: Lifecycle;
  /** The requests the app is answering. */
  readonly inFlight: InFlight;
  close(): Promise<void>;
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `${prefix}-`));
}

export async function listenOnEphemeralPort(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function startApp(
  options: Partial<Pick<AppDeps, 'faultInjection' | 'serveMetrics' | 'auth' | 'rateLimit' | 'trustProxyHops' | 'logger'>> & {
    store?: ItemStore;
  } = {},
): Promise<RunningApp> {
  const dataDir = options.store === undefined ? await tempDir('items-app') : undefined;
  const store = options.store ?? (await openStore({ dataDir: dataDir!, databaseUrl: undefined, dbPoolMax: 1 }));
  const metrics = new HttpMetrics({ version: '0.0.0-test' });
  const lifecycle = new Lifecycle();
  const inFlight = new InFlight();
  const app = createApp({ store, metrics, lifecycle, inFlight, logger: pino({ level: 'silent' }), ...options });
  const server = createServer((req, res) => {
    observeResponses(req, res);
    app(req, res);
  });
  const url = await listenOnEphemeralPort(server);
  return {
    url,
    server,
    store,
    metrics,
    lifecycle,
    inFlight,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      if (options.store === undefined) {
        await store.close();
        await rm(dataDir!, { recursive: true, force: true });
      }
    },
  };
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** A page of GET /api/items. */
export interface ItemList {
  readonly items: readonly Item[];
  readonly nextCursor: string | null;
}

/** An error answer: RFC 9457 problem details, as src/http/problems.ts renders them. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly code: ProblemCode;
  readonly detail?: string;
  readonly instance?: string;
  readonly errors?: readonly FieldError[];
}

/**
 * The response body parsed as JSON and taken, here and only here, as the shape the caller names
 * (the API's answers: Item, ItemList, Problem). @default Item
 */
export async function json<T = Item>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

/** The status and Connection header a GET through `agent` (a keep-alive pool, say) answers with. */
export interface Answer {
  status: number;
  connection: string | undefined;
}

export function get(url: string, agent: Agent, headers: Record<string, string> = {}): Promise<Answer> {
  return startGet(url, agent, headers).answer;
}

/** A GET under way. */
export interface PendingGet {
  /** Resolves once the whole request is written out on its connection. */
  readonly sent: Promise<void>;
  readonly answer: Promise<Answer>;
}

export function startGet(url: string, agent: Agent, headers: Record<string, string> = {}): PendingGet {
  let sentResolve: () => void = () => undefined;
  let sentReject: (err: Error) => void = () => undefined;
  const sent = new Promise<void>((resolve, reject) => {
    sentResolve = resolve;
    sentReject = reject;
  });
  // Whoever awaits `sent` sees a failure; the answer reports it in any case.
  sent.catch(() => undefined);
  const answer = new Promise<Answer>((resolve, reject) => {
    const req = httpRequest(url, { agent, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection }));
    });
    req.once('finish', sentResolve);
    req.on('error', (err) => {
      sentReject(err);
      reject(err);
    });
    req.end();
  });
  return { sent, answer };
}

/**
 * Connections the kernel has completed on the listener at `port` that the server has not
 * accepted yet (Linux: the LISTEN socket's rx_queue in /proc/net/tcp and tcp6). Closing a
 * listener resets these, so a test that signals shutdown under load waits for 0 first.
 */
export function unaccepted(port: number): number {
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const files = ['/proc/net/tcp', '/proc/net/tcp6'].filter((f) => existsSync(f));
  if (files.length === 0) throw new Error('unaccepted() reads /proc/net/tcp, which this system lacks (Linux only)');
  let queued = 0;
  for (const file of files) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      // sl local_address rem_address st tx_queue:rx_queue ...; st 0A is LISTEN.
      const [, local, , state, queues] = line.trim().split(/\s+/);
      if (state === '0A' && local?.endsWith(hexPort)) queued += parseInt(queues?.split(':')[1] ?? '0', 16);
    }
  }
  return queued;
}
