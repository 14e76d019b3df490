/**
 * The alert rules, as data built from printed values (k8s/printed.ts): one source for the
 * PrometheusRule, the plain alert_rules.yml and the chart's generated rule groups. Each alert has
 * the same shape: alert, expr, for, labels.severity and annotations summary, description,
 * runbook_url (added to every rule in one pass by `withRunbooks`).
 */
import { LABEL, METRIC, METRIC_LABELS, SCRAPE_UP } from '../src/contract';
import type { DeployConfig } from './config';
import { printedValues } from './printed';
import type { PrintedValues } from './printed';
import { resolveWhen } from './rules';
import type { AlertRule, Rule, RuleGroup } from './rules';
import { appSelector } from './selectors';

export const ALERT = {
  highErrorRate: 'HighErrorRate',
  highResponseTime: 'HighResponseTime',
  highErrorRatio: 'HighErrorRatio',
  targetDown: 'RestApiTargetDown',
  targetMissing: 'RestApiTargetMissing',
  restarting: 'RestApiRestarting',
  notReady: 'RestApiNotReady',
} as const;

export type AlertKey = keyof typeof ALERT;

/** Each alert's runbook_url: its section of docs/runbooks.md, wherever that is served. */
export function runbookUrl(baseUrl: string, alert: string): string {
  return `${baseUrl}#${alert.toLowerCase()}`;
}

/** An alert as its builder writes it, before `withRunbooks` links it. */
export type Unlinked = Omit<AlertRule, 'annotations'> & { readonly annotations: Omit<AlertRule['annotations'], 'runbook_url'> };

/** Every alert of `groups` linked to its section of the runbooks, in one pass. */
export function withRunbooks(groups: readonly RuleGroup<Exclude<Rule, AlertRule> | Unlinked>[], baseUrl: string): RuleGroup[] {
  return groups.map((g) => ({
    name: g.name,
    rules: g.rules.map((r) => ('alert' in r ? { ...r, annotations: { ...r.annotations, runbook_url: runbookUrl(baseUrl, r.alert) } } : r)),
  }));
}

/** The threshold alerts of one install, each kept unless `alerts.<key>.enabled` is false. */
export function alertGroups(p: PrintedValues): RuleGroup<Unlinked>[] {
  const a = p.alerts;
  // Every selector names the install's namespace and job: in a shared Prometheus, another
  // install's series never mix in, and absent() of one is not hidden by another.
  const sel = appSelector(p);
  const w = a.window;
  const pod = '{{ $labels.namespace }}/{{ $labels.pod }}';
  const rule = (key: AlertKey, expr: string, summary: string, description: string): Unlinked => ({
    alert: ALERT[key],
    expr,
    for: a[key].for,
    labels: { severity: a[key].severity },
    annotations: { summary, description },
    when: a[key].enabled,
  });
  // Rates are summed across pods (so thresholds do not depend on the replica count) and kept
  // per route and method, so the alert names what is failing.
  const perRoute = ['namespace', 'job', ...METRIC_LABELS[METRIC.requests5xx]].join(', ');
  const rt = a.highResponseTime;
  return [
    {
      name: `${p.name}.http`,
      rules: [
        rule(
          'highErrorRate',
          `sum by (${perRoute}) (rate(${METRIC.requests5xx}{${sel}}[${w}])) > ${a.highErrorRate.perSecond}`,
          'High rate of 5xx responses on {{ $labels.method }} {{ $labels.endpoint }}',
          `{{ $labels.method }} {{ $labels.endpoint }} in namespace {{ $labels.namespace }} has answered {{ $value | printf "%.2f" }} 5xx responses per second over the last ${w} (threshold ${a.highErrorRate.perSecond}/s).`,
        ),
        rule(
          'highResponseTime',
          // Across pods and methods per route: enough requests for a stable quantile, and the
          // route still tells on-call where to look.
          // A quiet route's quantile is one or two requests: below the minimum rate it stays silent.
          `histogram_quantile(${rt.quantile}, sum by (namespace, job, ${LABEL.endpoint}, le) (rate(${METRIC.requestDuration}_bucket{${sel}}[${w}]))) > ${rt.seconds}` +
            ` and sum by (namespace, job, ${LABEL.endpoint}) (rate(${METRIC.requestDuration}_count{${sel}}[${w}])) >= ${rt.minRequestsPerSecond}`,
          `p${p.derived.quantilePercent} latency of {{ $labels.endpoint }} above ${rt.seconds}s`,
          `The ${p.derived.quantilePercent}th percentile response time of {{ $labels.endpoint }} in namespace {{ $labels.namespace }} is {{ $value | humanizeDuration }} over the last ${w} (threshold ${rt.seconds}s, counted from ${rt.minRequestsPerSecond} requests/s up).`,
        ),
        rule(
          'highErrorRatio',
          // The rate alert misses a low-traffic service failing every request; the ratio
          // catches it. Below 1 request per minute the ratio is noise, so it stays silent.
          `(sum by (namespace, job) (rate(${METRIC.requests5xx}{${sel}}[${w}])) / sum by (namespace, job) (rate(${METRIC.requestsTotal}{${sel}}[${w}]))) > ${a.highErrorRatio.ratio} and sum by (namespace, job) (rate(${METRIC.requestsTotal}{${sel}}[${w}])) > 1/60`,
          `More than ${p.derived.ratioPercent}% of requests fail with 5xx`,
          `{{ $value | humanizePercentage }} of requests to {{ $labels.namespace }}/{{ $labels.job }} answered 5xx over the last ${w} (threshold ${p.derived.ratioPercent}%).`,
        ),
      ],
    },
    {
      name: `${p.name}.availability`,
      rules: [
        rule(
          'targetDown',
          `${SCRAPE_UP}{${sel}} == 0`,
          `Prometheus cannot scrape ${pod}`,
          `Pod ${pod} (target {{ $labels.instance }}) has failed its scrapes for ${a.targetDown.for}: it is down, not serving /metrics, or unreachable from Prometheus (a NetworkPolicy?).`,
        ),
        rule(
          'targetMissing',
          `absent(${SCRAPE_UP}{${sel}})`,
          `Prometheus has no ${p.name} target in namespace ${p.namespace}`,
          `No target of job ${p.name} in namespace ${p.namespace} has existed for ${a.targetMissing.for}: the ServiceMonitor is not selected by this Prometheus, its Service selects no pods, or the app is not deployed.`,
        ),
        rule(
          'notReady',
          // Scraped from the metrics port, which answers while the store is down: an outage that
          // empties the Service (no request, so no 5xx) still shows here.
          `max by (namespace, job) (${METRIC.ready}{${sel}}) < 1`,
          `No pod of {{ $labels.namespace }}/{{ $labels.job }} is ready`,
          `No pod of {{ $labels.job }} in namespace {{ $labels.namespace }} has been ready for ${a.notReady.for}: the Service has no endpoints and clients cannot reach the API. A pod is not ready while its database is unreachable or it is shutting down.`,
        ),
        rule(
          'restarting',
          `changes(${METRIC.processStartTime}{${sel}}[${a.restarting.window}]) >= ${a.restarting.restarts}`,
          `${pod} keeps restarting`,
          `Pod ${pod} restarted {{ $value }} times in the last ${a.restarting.window}.`,
        ),
      ],
    },
  ];
}

/** The threshold alerts of a resolved config, as Prometheus loads them. */
export function ruleGroups(c: DeployConfig): RuleGroup<AlertRule>[] {
  return resolveWhen(withRunbooks(alertGroups(printedValues(c)), c.alerts.runbookBaseUrl)) as RuleGroup<AlertRule>[];
}
