/**
 * The service's own metric registries (never prom-client's global one) and their rendering in
 * the Prometheus text format or OpenMetrics, as the scraper asks through `Accept`.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { OpenMetricsContentType, PrometheusContentType } from 'prom-client';
import { DURATION_BUCKETS, LABEL, METRIC } from './names';

export const PROMETHEUS_CONTENT_TYPE: PrometheusContentType = Registry.PROMETHEUS_CONTENT_TYPE;
export const OPENMETRICS_CONTENT_TYPE: OpenMetricsContentType = Registry.OPENMETRICS_CONTENT_TYPE;

/** Offers for content negotiation, in order of preference when the scraper has none. */
export const METRICS_MEDIA_TYPES = ['text/plain; version=0.0.4', 'application/openmetrics-text; version=1.0.0'] as const;

type RequestLabels = typeof LABEL.method | typeof LABEL.endpoint | typeof LABEL.status;
type RouteLabels = typeof LABEL.method | typeof LABEL.endpoint;

interface SeriesHandles {
  total: { inc(): void };
  duration: { observe(v: number): void };
  errors: { inc(): void } | undefined;
}

export interface HttpMetricsOptions {
  /** Reported in the build-info metric. */
  readonly version: string;
  /** Also collect prom-client's process and Node.js metrics. @default true */
  readonly defaultMetrics?: boolean;
}

/**
 * The HTTP metrics of one app instance. Label handles are cached per label set, so recording a
 * request costs one map lookup instead of prom-client's per-call label hashing.
 */
export class HttpMetrics {
  readonly registry = new Registry<PrometheusContentType>();
  /** Holds the same metric objects; only the output format differs. */
  private readonly openMetrics = new Registry<OpenMetricsContentType>();
  private readonly requestsTotal: Counter<RequestLabels>;
  private readonly duration: Histogram<RouteLabels>;
  private readonly requests4xx: Counter<RouteLabels>;
  private readonly requests5xx: Counter<RouteLabels>;
  private readonly handles = new Map<string, SeriesHandles>();

  constructor(options: HttpMetricsOptions) {
    this.openMetrics.setContentType(OPENMETRICS_CONTENT_TYPE);
    if (options.defaultMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry });
      for (const metric of this.registry.getMetricsAsArray()) {
        this.openMetrics.registerMetric(metric as never);
      }
    }
    const registers = [this.registry, this.openMetrics] as Registry[];
    this.requestsTotal = new Counter({
      name: METRIC.requestsTotal,
      help: 'HTTP requests handled, by method, route template and status code.',
      labelNames: [LABEL.method, LABEL.endpoint, LABEL.status],
      registers,
    });
    this.duration = new Histogram({
      name: METRIC.requestDuration,
      help: 'Time from receiving a request to finishing its response, in seconds.',
      labelNames: [LABEL.method, LABEL.endpoint],
      buckets: [...DURATION_BUCKETS],
      registers,
    });
    this.requests4xx = new Counter({
      name: METRIC.requests4xx,
      help: 'HTTP requests answered with a 4xx status, by method and route template.',
      labelNames: [LABEL.method, LABEL.endpoint],
      registers,
    });
    this.requests5xx = new Counter({
      name: METRIC.requests5xx,
      help: 'HTTP requests answered with a 5xx status, by method and route template.',
      labelNames: [LABEL.method, LABEL.endpoint],
      registers,
    });
    new Gauge({
      name: METRIC.buildInfo,
      help: 'Always 1; labelled with the running version of the service.',
      labelNames: [LABEL.version],
      registers,
    }).set({ [LABEL.version]: options.version }, 1);
  }

  /**
   * Starts the 4xx and 5xx series of a route at 0, so that `rate()` over them answers 0 rather
   * than nothing before the first error, and an error-ratio alert can resolve.
   */
  declareRoute(method: string, endpoint: string): void {
    this.requests4xx.labels(method, endpoint).inc(0);
    this.requests5xx.labels(method, endpoint).inc(0);
  }

  /** Records one finished request. `method` must already be folded (see names.ts). */
  observe(method: string, endpoint: string, status: number, seconds: number): void {
    const key = `${method} ${status} ${endpoint}`;
    let h = this.handles.get(key);
    if (h === undefined) {
      h = {
        total: this.requestsTotal.labels(method, endpoint, String(status)),
        duration: this.duration.labels(method, endpoint),
        errors:
          status >= 500 && status < 600
            ? this.requests5xx.labels(method, endpoint)
            : status >= 400 && status < 500
              ? this.requests4xx.labels(method, endpoint)
              : undefined,
      };
      this.handles.set(key, h);
    }
    h.total.inc();
    h.duration.observe(seconds);
    h.errors?.inc();
  }

  /** Renders all metrics in the format matching `mediaType` (one of METRICS_MEDIA_TYPES). */
  async render(mediaType: string | false | undefined): Promise<{ contentType: string; body: string }> {
    if (typeof mediaType === 'string' && mediaType.startsWith('application/openmetrics-text')) {
      return { contentType: OPENMETRICS_CONTENT_TYPE, body: await this.openMetrics.metrics() };
    }
    return { contentType: PROMETHEUS_CONTENT_TYPE, body: await this.registry.metrics() };
  }
}
