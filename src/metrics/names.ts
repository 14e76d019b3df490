/**
 * The metric contract: every metric and label name the service exports. The middleware, the
 * alert rules, the manifests and the tests import these, so a rename cannot drift.
 */

export const METRIC = {
  requestsTotal: 'http_requests_total',
  requestDuration: 'http_request_duration_seconds',
  requests4xx: 'http_requests_4xx_total',
  requests5xx: 'http_requests_5xx_total',
  buildInfo: 'rest_api_build_info',
  ready: 'rest_api_ready',
} as const;

export const LABEL = {
  method: 'method',
  endpoint: 'endpoint',
  status: 'status',
  version: 'version',
} as const;

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
export const DURATION_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 10,
];
