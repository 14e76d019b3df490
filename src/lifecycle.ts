/**
 * Graceful shutdown: stop accepting connections; every response still to be sent says
 * `Connection: close`, so each busy connection closes after its response; an idle keep-alive
 * connection is left to the keep-alive timeout (its client was told it in `Keep-Alive:
 * timeout=…` and stops reusing it first), and a request arriving on it meanwhile is answered,
 * with `Connection: close`. No connection is closed under a request. Then the store closes.
 * Past the timeout, remaining connections are cut and the shutdown reports it.
 */
import type { Server } from 'node:http';
import { Server as NetServer } from 'node:net';

export interface Drainable {
  /** Makes every response from now on, and every one not yet sent, close its connection. */
  drain(): void;
}

export class Lifecycle {
  private shuttingDown = false;

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /**
   * Closes `servers` and then runs `cleanup`. Resolves true when everything finished within
   * `timeoutMs`, false when connections had to be cut.
   */
  async shutdown(servers: readonly Server[], timeoutMs: number, cleanup: () => Promise<void>, inFlight?: Drainable): Promise<boolean> {
    this.shuttingDown = true;
    inFlight?.drain();
    let clean = true;
    const timer = setTimeout(() => {
      clean = false;
      for (const server of servers) server.closeAllConnections();
    }, timeoutMs);
    // Connections already in the listen backlog are accepted in this turn of the event loop;
    // closing the listener before that would reset them.
    await new Promise((resolve) => setImmediate(resolve));
    try {
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              // http.Server#close also closes idle keep-alive connections at once (Node 19+),
              // under any client sending its next request at that moment; net.Server#close
              // only stops accepting and fires once every connection has ended.
              NetServer.prototype.close.call(server, () => resolve());
            }),
        ),
      );
    } finally {
      clearTimeout(timer);
    }
    await cleanup();
    return clean;
  }
}
