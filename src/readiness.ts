/**
 * One readiness state, kept by a background check, read by /readyz and by the `rest_api_ready`
 * gauge, so neither a probe nor a scrape ever waits on the database. Until the store has been
 * opened it is retried with exponential backoff (a first deploy whose database is not up yet
 * reports not ready instead of crash-looping); once open it is pinged every few seconds with a
 * bounded wait.
 */
import type { Logger } from 'pino';
import type { ItemStore } from './store';

export interface ReadyState {
  readonly ready: boolean;
  /** Why not ready: `store not open yet`, `store unreachable`, `shutting down`. */
  readonly detail?: string;
}

export interface ReadinessOptions {
  /** Opens the store (and applies migrations); retried until it resolves. */
  readonly open: () => Promise<ItemStore>;
  /** Told about the store once it is open. */
  readonly onOpen: (store: ItemStore) => void;
  readonly isShuttingDown: () => boolean;
  readonly logger: Logger;
  /** Time between two pings of an open store. @default 5000 */
  readonly checkIntervalMs?: number;
  /** A ping slower than this counts as unreachable. @default 2000 */
  readonly pingTimeoutMs?: number;
  /** First and largest wait between two attempts to open the store. @default 500, 30000 */
  readonly backoffMs?: { readonly initial: number; readonly max: number };
}

function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export class ReadinessMonitor {
  private store: ItemStore | undefined;
  private reachable = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Settles when the attempt or ping under way does, so stop() can wait for it. */
  private running: Promise<void> = Promise.resolve();

  constructor(private readonly o: ReadinessOptions) {}

  state(): ReadyState {
    if (this.o.isShuttingDown()) return { ready: false, detail: 'shutting down' };
    if (this.store === undefined) return { ready: false, detail: 'store not open yet' };
    return this.reachable ? { ready: true } : { ready: false, detail: 'store unreachable' };
  }

  isReady(): boolean {
    return this.state().ready;
  }

  /** Starts opening the store; resolves at once (the server listens meanwhile). */
  start(): void {
    this.running = this.attemptOpen(this.o.backoffMs?.initial ?? 500, 1);
  }

  /** Stops checking and waits for the check under way; the store stays as it is. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number, run: () => Promise<void>): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = run();
    }, ms);
  }

  private async attemptOpen(nextWaitMs: number, attempt: number): Promise<void> {
    try {
      const store = await this.o.open();
      if (this.stopped) {
        await store.close();
        return;
      }
      this.store = store;
      this.reachable = true;
      this.o.onOpen(store);
      this.o.logger.info({ store: store.kind, attempt }, 'store ready');
      this.schedule(this.o.checkIntervalMs ?? 5_000, () => this.check());
    } catch (err) {
      const max = this.o.backoffMs?.max ?? 30_000;
      this.o.logger.warn({ err, attempt, retryInMs: nextWaitMs }, 'store not reachable yet; retrying');
      this.schedule(nextWaitMs, () => this.attemptOpen(Math.min(nextWaitMs * 2, max), attempt + 1));
    }
  }

  private async check(): Promise<void> {
    const was = this.reachable;
    try {
      await withTimeout(this.store!.ping(), this.o.pingTimeoutMs ?? 2_000);
      this.reachable = true;
      if (!was) this.o.logger.info('store reachable again');
    } catch (err) {
      this.reachable = false;
      if (was) this.o.logger.warn({ err }, 'store unreachable');
    }
    this.schedule(this.o.checkIntervalMs ?? 5_000, () => this.check());
  }
}
