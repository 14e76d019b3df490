/**
 * The event-loop delay gauges of prom-client's default metrics, with the same names, help and
 * semantics, except `nodejs_eventloop_lag_stddev_seconds`. prom-client computes every gauge of the
 * group at each scrape, and the standard deviation walks the whole delay histogram: about 330 µs
 * here, a third of a scrape's budget at 1,000 label sets, for a figure no rule or panel reads.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';

/** The names prom-client's collector registers, all removed before these are added. */
const PROM_CLIENT_NAMES = [
  'nodejs_eventloop_lag_seconds',
  'nodejs_eventloop_lag_min_seconds',
  'nodejs_eventloop_lag_max_seconds',
  'nodejs_eventloop_lag_mean_seconds',
  'nodejs_eventloop_lag_stddev_seconds',
  'nodejs_eventloop_lag_p50_seconds',
  'nodejs_eventloop_lag_p90_seconds',
  'nodejs_eventloop_lag_p99_seconds',
] as const;

/** prom-client's default sampling resolution, in ms. */
const RESOLUTION_MS = 10;

/** Replaces prom-client's event-loop gauges in `registry` (after collectDefaultMetrics). */
export function eventLoopGauges(registry: Registry): void {
  for (const name of PROM_CLIENT_NAMES) registry.removeSingleMetric(name);
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  histogram.enable();
  const registers = [registry];
  // Registered first, as prom-client does: a scrape reads the gauges in order, and this one's
  // collect sets the others, which must come after it to show this scrape's figures.
  const lag = new Gauge({
    name: 'nodejs_eventloop_lag_seconds',
    help: 'Lag of event loop in seconds.',
    registers,
    // As prom-client does: each scrape reports the lag its previous scrape's probe measured.
    collect() {
      const start = process.hrtime.bigint();
      setImmediate(() => lag.set(Number(process.hrtime.bigint() - start) / 1e9));
      min.set(histogram.min / 1e9);
      max.set(histogram.max / 1e9);
      mean.set(histogram.mean / 1e9);
      p50.set(histogram.percentile(50) / 1e9);
      p90.set(histogram.percentile(90) / 1e9);
      p99.set(histogram.percentile(99) / 1e9);
      histogram.reset();
    },
  });
  const gauge = (name: string, help: string) => new Gauge({ name, help, registers });
  const min = gauge('nodejs_eventloop_lag_min_seconds', 'The minimum recorded event loop delay.');
  const max = gauge('nodejs_eventloop_lag_max_seconds', 'The maximum recorded event loop delay.');
  const mean = gauge('nodejs_eventloop_lag_mean_seconds', 'The mean of the recorded event loop delays.');
  const p50 = gauge('nodejs_eventloop_lag_p50_seconds', 'The 50th percentile of the recorded event loop delays.');
  const p90 = gauge('nodejs_eventloop_lag_p90_seconds', 'The 90th percentile of the recorded event loop delays.');
  const p99 = gauge('nodejs_eventloop_lag_p99_seconds', 'The 99th percentile of the recorded event loop delays.');
}
