/**
 * The alert rules, as data built from the config: one source for the PrometheusRule and for the
 * plain alert_rules.yml. Each alert has the same shape: alert, expr, for, labels.severity and
 * annotations summary, description, runbook_url.
 */
import { LABEL, METRIC } from '../src/metrics/names';
import type { DeployConfig } from './config';

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
} as const;

export function ruleGroups(c: DeployConfig): RuleGroup[] {
  const a = c.alerts;
  const job = `job="${c.name}"`;
  const w = a.window;
  const runbook = (alert: string) => `${a.runbookBaseUrl}#${alert.toLowerCase()}`;
  const rule = (alert: string, expr: string, spec: { for: string; severity: string }, summary: string, description: string): AlertRule => ({
    alert,
    expr,
    for: spec.for,
    labels: { severity: spec.severity },
    annotations: { summary, description, runbook_url: runbook(alert) },
  });
  // Rates are summed across pods (so thresholds do not depend on the replica count) and kept
  // per route and method, so the alert names what is failing.
  const perRoute = `namespace, job, ${LABEL.method}, ${LABEL.endpoint}`;
  const pct = Math.round(a.highErrorRatio.ratio * 100);
  return [
    {
      name: `${c.name}.http`,
      rules: [
        rule(
          ALERT.highErrorRate,
          `sum by (${perRoute}) (rate(${METRIC.requests5xx}{${job}}[${w}])) > ${a.highErrorRate.perSecond}`,
          a.highErrorRate,
          'High rate of 5xx responses on {{ $labels.method }} {{ $labels.endpoint }}',
          `{{ $labels.method }} {{ $labels.endpoint }} has answered {{ $value | printf "%.2f" }} 5xx responses per second over the last ${w} (threshold ${a.highErrorRate.perSecond}/s).`,
        ),
        rule(
          ALERT.highResponseTime,
          // Across pods and methods per route: enough requests for a stable quantile, and the
          // route still tells on-call where to look.
          `histogram_quantile(${a.highResponseTime.quantile}, sum by (namespace, job, ${LABEL.endpoint}, le) (rate(${METRIC.requestDuration}_bucket{${job}}[${w}]))) > ${a.highResponseTime.seconds}`,
          a.highResponseTime,
          `p${Math.round(a.highResponseTime.quantile * 100)} latency of {{ $labels.endpoint }} above ${a.highResponseTime.seconds}s`,
          `The ${Math.round(a.highResponseTime.quantile * 100)}th percentile response time of {{ $labels.endpoint }} is {{ $value | humanizeDuration }} over the last ${w} (threshold ${a.highResponseTime.seconds}s).`,
        ),
        rule(
          ALERT.highErrorRatio,
          // The rate alert misses a low-traffic service failing every request; the ratio
          // catches it. Below 1 request per minute the ratio is noise, so it stays silent.
          `(sum by (namespace, job) (rate(${METRIC.requests5xx}{${job}}[${w}])) / sum by (namespace, job) (rate(${METRIC.requestsTotal}{${job}}[${w}]))) > ${a.highErrorRatio.ratio} and sum by (namespace, job) (rate(${METRIC.requestsTotal}{${job}}[${w}])) > 1/60`,
          a.highErrorRatio,
          `More than ${pct}% of requests fail with 5xx`,
          `{{ $value | humanizePercentage }} of requests to {{ $labels.job }} answered 5xx over the last ${w} (threshold ${pct}%).`,
        ),
      ],
    },
    {
      name: `${c.name}.availability`,
      rules: [
        rule(
          ALERT.targetDown,
          `up{${job}} == 0`,
          a.targetDown,
          'Prometheus cannot scrape {{ $labels.instance }}',
          `The ${c.name} target {{ $labels.instance }} has failed its scrapes for ${a.targetDown.for}: the pod is down, not ready to serve /metrics, or unreachable from Prometheus.`,
        ),
        rule(
          ALERT.targetMissing,
          `absent(up{${job}})`,
          a.targetMissing,
          `Prometheus has no ${c.name} target at all`,
          `No target of job ${c.name} has existed for ${a.targetMissing.for}: the ServiceMonitor is not selected, its Service selects no pods, or the app is not deployed.`,
        ),
        rule(
          ALERT.restarting,
          `changes(process_start_time_seconds{${job}}[${a.restarting.window}]) >= ${a.restarting.restarts}`,
          a.restarting,
          '{{ $labels.instance }} keeps restarting',
          `{{ $labels.instance }} restarted {{ $value }} times in the last ${a.restarting.window}.`,
        ),
      ],
    },
  ];
}
