/**
 * The service's contract with what runs and watches it: its paths, ports, and every metric and
 * label name it exports, with the labels each metric carries. The service, the manifests and
 * alert rules (k8s/), the tools and the tests import these, so a rename cannot drift.
 *
 * This module imports nothing: the synth reads it without loading the service's runtime
 * (Express, prom-client, the stores, the logger).
 */

/** Liveness: answers while the process runs. */
export const HEALTH_PATH = '/healthz';
/** Readiness: 200 while the store answers and the instance is not shutting down, else 503. */
export const READY_PATH = '/readyz';
/** The Prometheus scrape endpoint (also on METRICS_PORT when that is set). */
export const METRICS_PATH = '/metrics';
/** The alert runbooks, linked from every alert's `runbook_url`. */
export const RUNBOOKS_PATH = '/runbooks';
/** The API description (OpenAPI 3.1), generated from the validation schemas. */
export const OPENAPI_PATH = '/openapi.json';
/** The items collection. */
export const ITEMS_PATH = '/api/items';

/** The API listener's port unless PORT says otherwise. */
export const DEFAULT_PORT = 8080;

/** The metrics listener's port in the image and the manifests (METRICS_PORT). */
export const DEFAULT_METRICS_PORT = 9464;

/** Container, Service and ServiceMonitor port names; `metrics` is also the `endpoint` target label. */
export const PORT_NAME = { http: 'http', metrics: 'metrics' } as const;

export const METRIC = {
  requestsTotal: 'http_requests_total',
  requestDuration: 'http_request_duration_seconds',
  requests4xx: 'http_requests_4xx_total',
  requests5xx: 'http_requests_5xx_total',
  buildInfo: 'rest_api_build_info',
  /** 1 while this instance is ready to serve, 0 while its store is unreachable or it shuts down. */
  ready: 'rest_api_ready',
  /** prom-client's process collector; the restart alert counts its changes. */
  processStartTime: 'process_start_time_seconds',
} as const;

/** The series Prometheus itself writes for each target: 1 when its last scrape succeeded. */
export const SCRAPE_UP = 'up';

export const LABEL = {
  method: 'method',
  endpoint: 'endpoint',
  status: 'status',
  version: 'version',
} as const;

/** The labels the service puts on each of its own metrics, in exposition order. */
export const METRIC_LABELS = {
  [METRIC.requestsTotal]: [LABEL.method, LABEL.endpoint, LABEL.status],
  [METRIC.requestDuration]: [LABEL.method, LABEL.endpoint],
  [METRIC.requests4xx]: [LABEL.method, LABEL.endpoint],
  [METRIC.requests5xx]: [LABEL.method, LABEL.endpoint],
  [METRIC.buildInfo]: [LABEL.version],
  [METRIC.ready]: [],
  [METRIC.processStartTime]: [],
} as const satisfies Record<(typeof METRIC)[keyof typeof METRIC], readonly string[]>;

/**
 * Labels Prometheus adds to every series of a target: `job` and `instance` always; `namespace`,
 * `pod`, `service` and `endpoint` (the port name) from the Prometheus Operator's ServiceMonitor
 * discovery and from the local prometheus.yml, which mirrors it.
 */
export const TARGET_LABELS = ['job', 'instance', 'namespace', 'pod', 'service', 'endpoint'] as const;

/** The `endpoint` value shared by every request that matched no route (404 scans, typos). */
export const UNMATCHED_ENDPOINT = '<unmatched>';

/** The `method` value for any HTTP method outside KNOWN_METHODS. */
export const OTHER_METHOD = 'OTHER';

export const KNOWN_METHODS: readonly string[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/**
 * `status` of a request whose client went away before the response was sent (nginx's
 * convention), so slow requests that clients gave up on still show in the 4xx rate.
 */
export const CLIENT_CLOSED_STATUS = 499;

/**
 * Histogram bounds in seconds. 1 s must stay a boundary: the HighResponseTime alert compares
 * the p95 against it, and histogram_quantile is only exact at bucket boundaries.
 */
export const DURATION_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 10];

/** AUTH_MODE values: `none` is for local use only. */
export const AUTH_MODES = ['none', 'api-key', 'jwt'] as const;
/** AUTH_READS values. */
export const AUTH_READS = ['open', 'authenticated'] as const;
/** Asymmetric JWS algorithms only: an HMAC secret would have to be shared with every verifier. */
export const JWT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];
export const DEFAULT_JWT_ALGORITHMS: readonly JwtAlgorithm[] = ['RS256', 'ES256'];
/** The scope a token needs to write (AUTH_WRITE_SCOPE's default). */
export const DEFAULT_WRITE_SCOPE = 'items:write';
