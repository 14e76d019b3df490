/**
 * One benchmark server in its own process: `node server.js <variant> <port>`.
 *   bare    Express 5 with the handler, no metrics (the baseline)
 *   project the project's route groups and metrics middleware
 *   bundle  express-prom-bundle (method, path, status), the usual alternative
 * The in-memory variants answer GET /api/items/:id from a Map, isolating the middleware cost.
 * Prints "ready" once listening.
 */
import { createServer } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import express from 'express';
import type { RequestHandler } from 'express';
import promBundle from 'express-prom-bundle';
import { Registry } from 'prom-client';
import { RouteGroup } from '../../src/http/routing';
import { useHttpMetrics } from '../../src/metrics/middleware';
import { HttpMetrics } from '../../src/metrics/registry';
import { metricsHandler } from '../../src/routes/ops';
import { runMain } from '../lib/main';
import { populate } from './scrape';
import { METRICS_PATH } from '../../src/contract';

export const BENCH_ITEM_ID = '00000000-0000-4000-8000-000000000001';
const ITEM = {
  id: BENCH_ITEM_ID,
  name: 'bench',
  description: null,
  tags: ['a', 'b'],
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
};
const items = new Map([[BENCH_ITEM_ID, ITEM]]);

const handler: RequestHandler = (req, res) => {
  const item = items.get(req.params.id as string);
  if (item === undefined) res.status(404).json({ code: 'item_not_found' });
  else res.json(item);
};

function build(variant: string): express.Express {
  switch (variant) {
    case 'bare': {
      const app = express();
      app.get('/api/items/:id', handler);
      return app;
    }
    case 'project': {
      const app = express();
      const metrics = populate(new HttpMetrics({ version: 'bench' }), Number(process.env.BENCH_LABEL_SETS ?? 0));
      if (process.env.BENCH_EVENT_LOOP === 'true') {
        // Event-loop delay while serving, read and reset by the runner (scrapes under load only:
        // the 1 ms sampling timer would otherwise weigh on the throughput runs).
        const delay = monitorEventLoopDelay({ resolution: 1 });
        delay.enable();
        app.get('/__event-loop', (_req, res) => {
          res.json({ maxMs: delay.max / 1e6, p99Ms: delay.percentile(99) / 1e6 });
          delay.reset();
        });
      }
      app.get(METRICS_PATH, metricsHandler(metrics));
      useHttpMetrics(app, metrics);
      new RouteGroup(app, '', { onRoute: (m, e) => metrics.declareRoute(m, e) }).group('/api/items').route('/:id', { get: handler });
      return app;
    }
    case 'bundle': {
      const app = express();
      app.use(
        promBundle({
          includeMethod: true,
          includePath: true,
          includeStatusCode: true,
          promRegistry: new Registry(),
          promClient: { collectDefaultMetrics: {} },
        }),
      );
      app.get('/api/items/:id', handler);
      return app;
    }
    default:
      throw new Error(`unknown variant ${variant}`);
  }
}

function main(): Promise<void> {
  const [variant = 'bare', port = '0'] = process.argv.slice(2);
  const server = createServer(build(variant));
  server.keepAliveTimeout = 65_000;
  server.listen(Number(port), '127.0.0.1', () => process.stdout.write(`ready ${(server.address() as { port: number }).port}\n`));
  process.on('SIGTERM', () => process.exit(0));
  return Promise.resolve();
}

if (require.main === module) runMain('bench server', main);
