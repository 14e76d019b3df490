/** Entry point: configuration, store, listeners, signals and graceful shutdown. */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import pino from 'pino';
import pkg from '../package.json';
import { createApp } from './app';
import { ConfigError, loadConfig } from './config';
import type { Config } from './config';
import { Lifecycle } from './lifecycle';
import { HttpMetrics } from './metrics/registry';
import { metricsHandler, METRICS_PATH } from './routes/ops';
import { openStore } from './store';

function listen(server: Server, port: number, host: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

async function main(config: Config): Promise<void> {
  const logger = pino({ level: config.logLevel, base: { service: pkg.name, version: pkg.version } });
  const store = await openStore(config);
  logger.info({ store: store.kind, dataDir: store.kind === 'pglite' ? config.dataDir : undefined }, 'store ready');

  const lifecycle = new Lifecycle();
  const metrics = new HttpMetrics({ version: pkg.version });
  const separateMetrics = config.metricsPort !== undefined;
  const app = createApp({ store, metrics, logger, lifecycle, faultInjection: config.faultInjection, serveMetrics: !separateMetrics });
  const servers = [createServer(app)];
  const port = await listen(servers[0]!, config.port, config.host);
  logger.info({ port, faultInjection: config.faultInjection }, `listening on http://localhost:${port}`);

  if (config.metricsPort !== undefined) {
    const metricsApp = express().disable('x-powered-by').get(METRICS_PATH, metricsHandler(metrics));
    servers.push(createServer(metricsApp));
    const metricsPort = await listen(servers[1]!, config.metricsPort, config.host);
    logger.info({ port: metricsPort }, `metrics on http://localhost:${metricsPort}${METRICS_PATH}`);
  }

  const onSignal = (signal: NodeJS.Signals): void => {
    if (lifecycle.isShuttingDown()) return;
    logger.info({ signal, timeoutMs: config.shutdownTimeoutMs }, 'shutting down');
    lifecycle
      .shutdown(servers, config.shutdownTimeoutMs, () => store.close())
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
  process.stderr.write(`startup failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
