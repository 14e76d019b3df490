/**
 * Entry point: configuration, listeners, the store (opened in the background, so the server
 * listens and reports not ready while its database is not up), signals and graceful shutdown.
 */
import { createServer } from 'node:http';
import type { RequestListener, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import pkg from '../package.json';
import { createApp } from './app';
import { authSetup } from './auth';
import { ConfigError, loadConfig } from './config';
import type { Config } from './config';
import { InFlight } from './http/in-flight';
import { noSniff } from './http/security-headers';
import { Lifecycle } from './lifecycle';
import { createLogger } from './logger';
import { HttpMetrics } from './metrics/registry';
import { ReadinessMonitor } from './readiness';
import { metricsHandler } from './routes/ops';
import { METRICS_PATH } from './contract';
import { openStore } from './store';
import { DeferredStore } from './store/deferred';
import { redact } from './redact';

/** How often Node checks headersTimeout and requestTimeout (its default, 30 s, adds up to 30 s to both). */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

function listen(server: Server, port: number, host: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function httpServer(config: Config, handler: RequestListener): Server {
  const server = createServer({ connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS }, handler);
  server.headersTimeout = config.headersTimeoutMs;
  server.requestTimeout = config.requestTimeoutMs;
  server.keepAliveTimeout = config.keepAliveTimeoutMs;
  server.maxRequestsPerSocket = config.maxRequestsPerSocket;
  return server;
}

async function main(config: Config): Promise<void> {
  const logger = createLogger({ level: config.logLevel, base: { service: pkg.name, version: pkg.version } });
  const lifecycle = new Lifecycle();
  const store = new DeferredStore(config.databaseUrl === undefined ? 'pglite' : 'postgres');
  const monitor = new ReadinessMonitor({
    open: () => openStore(config, (err) => logger.warn({ err }, 'PostgreSQL pool: idle connection failed')),
    onOpen: (opened) => store.resolve(opened),
    isShuttingDown: () => lifecycle.isShuttingDown(),
    logger,
  });
  const auth = authSetup(config.auth, logger);
  if (config.auth.mode === 'none') {
    logger.warn(
      { authMode: 'none' },
      'AUTHENTICATION IS OFF (AUTH_MODE=none): anyone who can reach this port can create, change and delete every item. ' +
        'For local use only; set AUTH_MODE=api-key or AUTH_MODE=jwt anywhere else.',
    );
  } else {
    logger.info({ authMode: config.auth.mode, reads: config.auth.reads }, 'authentication on');
  }
  const metrics = new HttpMetrics({ version: pkg.version, ready: () => monitor.isReady() });
  const inFlight = new InFlight();
  const separateMetrics = config.metricsPort !== undefined;
  const app = createApp({
    store,
    metrics,
    logger,
    lifecycle,
    faultInjection: config.faultInjection,
    serveMetrics: !separateMetrics,
    readiness: () => monitor.state(),
    inFlight,
    maxInFlight: config.maxInFlight,
    auth,
    rateLimit: config.rateLimit,
    trustProxyHops: config.trustProxyHops,
  });
  const api = httpServer(config, app);
  const port = await listen(api, config.port, config.host);
  logger.info({ port, faultInjection: config.faultInjection }, `listening on http://localhost:${port}`);

  let metricsServer: Server | undefined;
  if (config.metricsPort !== undefined) {
    const metricsApp = express().disable('x-powered-by').use(noSniff).get(METRICS_PATH, metricsHandler(metrics));
    metricsServer = httpServer(config, metricsApp);
    const metricsPort = await listen(metricsServer, config.metricsPort, config.host);
    logger.info({ port: metricsPort }, `metrics on http://localhost:${metricsPort}${METRICS_PATH}`);
  }
  monitor.start();

  const onSignal = (signal: NodeJS.Signals): void => {
    if (lifecycle.isShuttingDown()) return;
    logger.info({ signal, timeoutMs: config.shutdownTimeoutMs }, 'shutting down');
    lifecycle
      .shutdown(
        [api],
        config.shutdownTimeoutMs,
        async () => {
          await monitor.stop();
          await store.close();
          // Scraped until the end, so the last scrape sees rest_api_ready 0.
          metricsServer?.closeAllConnections();
          metricsServer?.close();
        },
        inFlight,
      )
      .then((clean) => {
        if (clean) logger.info('shutdown complete');
        else logger.warn({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timed out: open connections were cut');
        process.exit(clean ? 0 : 1);
      })
      .catch((err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(78);
}
main(config).catch((err: unknown) => {
  // A configured file that turns out to be missing or invalid is a configuration error too.
  if (err instanceof ConfigError) {
    process.stderr.write(redact(`${err.message}\n`));
    process.exit(78);
  }
  process.stderr.write(redact(`startup failed: ${err instanceof Error ? err.stack : String(err)}\n`));
  process.exit(1);
});
