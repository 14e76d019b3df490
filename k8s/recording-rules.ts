/**
 * Recording rules per route, named `level:metric:operations` as Prometheus's naming practice
 * asks: the level is the labels kept, the metric the source without `_total`, the operations
 * newest first. The dashboard reads them; they are summed across pods, so a panel or a rule never
 * depends on the replica count.
 */
import { LABEL, METRIC } from '../src/contract';
import type { RecordingRule, RuleGroup } from './rules';

/** Rate window of the per-route recording rules. */
export const RECORDING_WINDOW = '5m';

/** Latency quantiles recorded per route. */
export const RECORDED_QUANTILES = [0.5, 0.95, 0.99] as const;

const w = RECORDING_WINDOW;
/** The recorded series, by what they answer. */
export const RECORD = {
  /** Requests per second by method, route and status code. */
  requestRate: `namespace_job_method_endpoint_status:http_requests:rate${w}`,
  /** Requests per second by route. */
  routeRequestRate: `namespace_job_endpoint:http_requests:rate${w}`,
  /** Share of a route's requests answered 5xx. */
  routeErrorRatio: `namespace_job_endpoint:http_requests_5xx:ratio_rate${w}`,
  /** Share of a route's requests answered 4xx (499 included). */
  routeClientErrorRatio: `namespace_job_endpoint:http_requests_4xx:ratio_rate${w}`,
  /** Histogram buckets per route, summed across pods and methods. */
  routeDurationBuckets: `namespace_job_endpoint_le:${METRIC.requestDuration}_bucket:rate${w}`,
  /** Latency quantile per route; the `quantile` label says which. */
  routeLatencyQuantile: `namespace_job_endpoint_quantile:${METRIC.requestDuration}:histogram_quantile_rate${w}`,
  /** Mean latency per route. */
  routeLatencyMean: `namespace_job_endpoint:${METRIC.requestDuration}:mean${w}`,
} as const;

/**
 * Requests per second of each pod over `window` (autoscaling.keda.window): what KEDA's Prometheus
 * trigger sums, so the autoscaler reads the same number the rules record.
 */
export const podRequestRateRecord = (window: string) => `namespace_job_pod:http_requests:rate${window}`;

/**
 * The query of KEDA's Prometheus trigger: the install's total request rate, one sample. KEDA's
 * AverageValue target divides it by the replica count, so the HPA keeps ceil(total / target) pods.
 */
export function scalerQuery(selector: string, window: string): string {
  return `sum(${podRequestRateRecord(window)}{${selector}})`;
}

/**
 * The per-route recording rules of one install, and its per-pod request rate for the autoscaler.
 * @param selector the install's series selector (`appSelector(config)`)
 * @param groupName the rule group's name
 * @param scaling whether KEDA scales on the request rate (a printed boolean), and its rate window
 */
export function recordingRuleGroup(
  selector: string,
  groupName: string,
  scaling: { readonly keda: string; readonly window: string },
): RuleGroup<RecordingRule> {
  const route = `namespace, job, ${LABEL.endpoint}`;
  const rate = (metric: string, extra = '') => `rate(${metric}{${selector}${extra}}[${w}])`;
  const rules: RecordingRule[] = [
    {
      record: RECORD.requestRate,
      expr: `sum by (namespace, job, ${LABEL.method}, ${LABEL.endpoint}, ${LABEL.status}) (${rate(METRIC.requestsTotal)})`,
    },
    { record: RECORD.routeRequestRate, expr: `sum by (${route}) (${rate(METRIC.requestsTotal)})` },
    {
      record: RECORD.routeErrorRatio,
      expr: `sum by (${route}) (${rate(METRIC.requests5xx)}) / sum by (${route}) (${rate(METRIC.requestsTotal)})`,
    },
    {
      record: RECORD.routeClientErrorRatio,
      expr: `sum by (${route}) (${rate(METRIC.requests4xx)}) / sum by (${route}) (${rate(METRIC.requestsTotal)})`,
    },
    { record: RECORD.routeDurationBuckets, expr: `sum by (${route}, le) (${rate(`${METRIC.requestDuration}_bucket`)})` },
    ...RECORDED_QUANTILES.map((q) => ({
      record: RECORD.routeLatencyQuantile,
      expr: `histogram_quantile(${q}, ${RECORD.routeDurationBuckets}{${selector}})`,
      labels: { quantile: String(q) },
    })),
    {
      record: podRequestRateRecord(scaling.window),
      expr: `sum by (namespace, job, pod) (rate(${METRIC.requestsTotal}{${selector}}[${scaling.window}]))`,
      when: scaling.keda,
    },
    {
      record: RECORD.routeLatencyMean,
      expr: `sum by (${route}) (${rate(`${METRIC.requestDuration}_sum`)}) / sum by (${route}) (${rate(`${METRIC.requestDuration}_count`)})`,
    },
  ];
  return { name: groupName, rules };
}
