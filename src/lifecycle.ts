/**
 * Graceful shutdown: stop accepting connections, let in-flight requests finish (responses then
 * carry `Connection: close`), close idle keep-alive sockets, then close the store. Past the
 * timeout, remaining connections are cut and the shutdown reports it.
 */
import type { Server } from 'node:http';

export class Lifecycle {
  private shuttingDown = false;

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /**
   * Closes `servers` and then runs `cleanup`. Resolves true when everything finished within
   * `timeoutMs`, false when connections had to be cut.
   */
  async shutdown(servers: readonly Server[], timeoutMs: number, cleanup: () => Promise<void>): Promise<boolean> {
    this.shuttingDown = true;
    let clean = true;
    const timer = setTimeout(() => {
      clean = false;
      for (const server of servers) server.closeAllConnections();
    }, timeoutMs);
    // Idle keep-alive sockets get no response to carry `Connection: close`; sweep them as
    // busy sockets become idle.
    const sweep = setInterval(() => servers.forEach((s) => s.closeIdleConnections()), 100);
    try {
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeIdleConnections();
            }),
        ),
      );
    } finally {
      clearTimeout(timer);
      clearInterval(sweep);
    }
    await cleanup();
    return clean;
  }
}
