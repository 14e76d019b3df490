/**
 * The alert rules, as data built from the config: one source for the PrometheusRule and for the
 * plain alert_rules.yml. Each alert has the same shape: alert, expr, for, labels.severity and
 * annotations summary, description, runbook_url.
 */
import { LABEL, METRIC, METRIC_LABELS, SCRAPE_UP } from '../src/contract';
import type { DeployConfig } from './config';
import { appSelector } from './selectors';

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: { readonly severity: string };
  readonly annotations: { readonly summary: string; readonly description: string; readonly runbook_url: string };
}

export interface RuleGroup {
  readonly name: string;
  readonly rules: readonly AlertRule[];
}

export const ALERT = {
  highErrorRate: 'HighErrorRate',
  highResponseTime: 'HighResponseTime',
  highErrorRatio: 'HighErrorRatio',
  targetDown: 'RestApiTargetDown',
  targetMissing: 'RestApiTargetMissing',
  restarting: 'RestApiRestarting',
  notReady: 'RestApiNotReady',
} as const;

/** Each alert's runbook_url: its section of docs/runbooks.md, wherever that is served. */
export function runbookUrl(baseUrl: string, alert: string): string {
  return `${baseUrl}#${alert.toLowerCase()}`;
}

export function ruleGroups(c: DeployConfig): RuleGroup[] {
  const a = c.alerts;
  // Every selector names the install's namespace and job: in a shared Prometheus, another
  // install's series never mix in, and absent() of one is not hidden by another.
  const sel = appSelector(c);
  const w = a.window;
  const runbook = (alert: string) => runbookUrl(a.runbookBaseUrl, alert);
  const pod = '{{ $labels.namespace }}/{{ $labels.pod }}';
  const rule = (alert: string, expr: string, spec: { for: string; severity: string }, summary: string, description: string): AlertRule => ({
    alert,
    expr,
    for: spec.for,
    labels: { severity: spec.severity },
    annotations: { summary, description, runbook_url: runbook(alert) },
  });
  // Rates are summed across pods (so thresholds do not depend on the replica count) and kept
  // per route and method, so the alert names what is failing.
  const perRoute = ['namespace', 'job', ...METRIC_LABELS[METRIC.requests5xx]].join(', ');
  const pct = Math.round(a.highErrorRatio.ratio * 100);
  return [
    {
      name: `${c.name}.http`,
      rules: [
        rule(
          ALERT.highErrorRate,
          `sum by (${perRoute}) (rate(${METRIC.requests5xx}{${sel}}[${w}])) > ${a.highErrorRate.perSecond}`,
          a.highErrorRate,
          'High rate of 5xx responses on {{ $labels.method }} {{ $labels.endpoint }}',
          `{{ $labels.method }} {{ $labels.endpoint }} in namespace {{ $labels.namespace }} has answered {{ $value | printf "%.2f" }} 5xx responses per second over the last ${w} (threshold ${a.highErrorRate.perSecond}/s).`,
        ),
        rule(
          ALERT.highResponseTime,
          // Across pods and methods per route: enough requests for a stable quantile, and the
          // route still tells on-call where to look.
          // A quiet route's quantile is one or two requests: below the minimum rate it stays silent.
          `histogram_quantile(${a.highResponseTime.quantile}, sum by (namespace, job, ${LABEL.endpoint}, le) (rate(${METRIC.requestDuration}_bucket{${sel}}[${w}]))) > ${a.highResponseTime.seconds}` +
            ` and sum by (namespace, job, ${LABEL.endpoint}) (rate(${METRIC.requestDuration}_count{${sel}}[${w}])) >= ${a.highResponseTime.minRequestsPerSecond}`,
          a.highResponseTime,
          `p${Math.round(a.highResponseTime.quantile * 100)} latency of {{ $labels.endpoint }} above ${a.highResponseTime.seconds}s`,
          `The ${Math.round(a.highResponseTime.quantile * 100)}th percentile response time of {{ $labels.endpoint }} in namespace {{ $labels.namespace }} is {{ $value | humanizeDuration }} over the last ${w} (threshold ${a.highResponseTime.seconds}s, counted from ${a.highResponseTime.minRequestsPerSecond} requests/s up).`,
        ),
        rule(
          ALERT.highErrorRatio,
          // The rate alert misses a low-traffic service failing every request; the ratio
          // catches it. Below 1 request per minute the ratio is noise, so it stays silent.
          `(sum by (namespace, job) (rate(${METRIC.requests5xx}{${sel}}[${w}])) / sum by (namespace, job) (rate(${METRIC.requestsTotal}{${sel}}[${w}]))) > ${a.highErrorRatio.ratio} and sum by (namespace, job) (rate(${METRIC.requestsTotal}{${sel}}[${w}])) > 1/60`,
          a.highErrorRatio,
          `More than ${pct}% of requests fail with 5xx`,
          `{{ $value | humanizePercentage }} of requests to {{ $labels.namespace }}/{{ $labels.job }} answered 5xx over the last ${w} (threshold ${pct}%).`,
        ),
      ],
    },
    {
      name: `${c.name}.availability`,
      rules: [
        rule(
          ALERT.targetDown,
          `${SCRAPE_UP}{${sel}} == 0`,
          a.targetDown,
          `Prometheus cannot scrape ${pod}`,
          `Pod ${pod} (target {{ $labels.instance }}) has failed its scrapes for ${a.targetDown.for}: it is down, not serving /metrics, or unreachable from Prometheus (a NetworkPolicy?).`,
        ),
        rule(
          ALERT.targetMissing,
          `absent(${SCRAPE_UP}{${sel}})`,
          a.targetMissing,
          `Prometheus has no ${c.name} target in namespace ${c.namespace}`,
          `No target of job ${c.name} in namespace ${c.namespace} has existed for ${a.targetMissing.for}: the ServiceMonitor is not selected by this Prometheus, its Service selects no pods, or the app is not deployed.`,
        ),
        rule(
          ALERT.notReady,
          // Scraped from the metrics port, which answers while the store is down: an outage that
          // empties the Service (no request, so no 5xx) still shows here.
          `max by (namespace, job) (${METRIC.ready}{${sel}}) < 1`,
          a.notReady,
          `No pod of {{ $labels.namespace }}/{{ $labels.job }} is ready`,
          `No pod of {{ $labels.job }} in namespace {{ $labels.namespace }} has been ready for ${a.notReady.for}: the Service has no endpoints and clients cannot reach the API. A pod is not ready while its database is unreachable or it is shutting down.`,
        ),
        rule(
          ALERT.restarting,
          `changes(${METRIC.processStartTime}{${sel}}[${a.restarting.window}]) >= ${a.restarting.restarts}`,
          a.restarting,
          `${pod} keeps restarting`,
          `Pod ${pod} restarted {{ $value }} times in the last ${a.restarting.window}.`,
        ),
      ],
    },
  ];
}
