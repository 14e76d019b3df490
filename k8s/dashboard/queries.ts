/**
 * What the dashboard shows, as data: rows of panels, each a question and the PromQL that answers
 * it. The builder (dashboard.ts) turns them into Grafana JSON; the end-to-end test runs every
 * query against a real Prometheus. Queries are scoped by the dashboard's variables and read the
 * recording rules where one exists; raw rates use `$__rate_interval`, totals `$__range`.
 */
import { LABEL, METRIC } from '../../src/contract';
import { RECORD } from '../recording-rules';
import { ALERT_WINDOWS } from '../burn-rates';
import type { PrintedValues } from '../printed';
import { BUDGET_REMAINING, sliErrorRatio, sloSpecs } from '../slo';

/** Dashboard variables, by name. */
export const VAR = { datasource: 'datasource', namespace: 'namespace', job: 'job', endpoint: 'endpoint' } as const;

/** The install the dashboard shows: the same labels as `appSelector`, chosen by variables. */
export const SCOPE = `namespace=~"$${VAR.namespace}",job=~"$${VAR.job}"`;
const ROUTES = `${SCOPE},${LABEL.endpoint}=~"$${VAR.endpoint}"`;

export interface Target {
  readonly expr: string;
  readonly legend: string;
}

export interface PanelSpec {
  readonly title: string;
  readonly description: string;
  readonly kind: 'timeseries' | 'stat';
  /** Grafana unit id. */
  readonly unit: string;
  /** Columns of the 24-column grid. */
  readonly width: number;
  readonly targets: readonly Target[];
}

export interface RowSpec {
  readonly title: string;
  readonly panels: readonly PanelSpec[];
}

const rate = (metric: string, selector = ROUTES) => `rate(${metric}{${selector}}[$__rate_interval])`;

export function dashboardRows(p: PrintedValues): RowSpec[] {
  const specs = sloSpecs(p, SCOPE);
  const slo = p.slo;
  return [
    {
      title: 'Traffic',
      panels: [
        {
          title: 'Requests in the time range',
          description:
            "All requests answered in the selected time range, across pods (the guide's sum(http_requests_total), made independent of restarts).",
          kind: 'stat',
          unit: 'short',
          width: 4,
          targets: [{ expr: `sum(increase(${METRIC.requestsTotal}{${ROUTES}}[$__range]))`, legend: 'requests' }],
        },
        {
          title: 'Request rate per route',
          description: 'Requests per second per route, summed across pods.',
          kind: 'timeseries',
          unit: 'reqps',
          width: 10,
          targets: [{ expr: `sum by (${LABEL.endpoint}) (${rate(METRIC.requestsTotal)})`, legend: '{{endpoint}}' }],
        },
        {
          title: 'Request rate per route and status class',
          description: 'Requests per second per route, split into 2xx, 3xx, 4xx and 5xx.',
          kind: 'timeseries',
          unit: 'reqps',
          width: 10,
          targets: [
            {
              // `${1}` is label_replace's group reference; Grafana leaves `$<digits>` alone (no variable has such a name).
              expr: `sum by (${LABEL.endpoint}, status_class) (label_replace(${rate(METRIC.requestsTotal)}, "status_class", "\${1}xx", "${LABEL.status}", "(.).."))`,
              legend: '{{endpoint}} {{status_class}}',
            },
          ],
        },
        {
          title: 'Request rate per method, route and status',
          description: 'The recorded rate (5m window) of every method, route and status code, summed across pods.',
          kind: 'timeseries',
          unit: 'reqps',
          width: 24,
          targets: [{ expr: `${RECORD.requestRate}{${ROUTES}}`, legend: '{{method}} {{endpoint}} {{status}}' }],
        },
      ],
    },
    {
      title: 'Errors',
      panels: [
        {
          title: 'Client errors (4xx) per route',
          description: 'Requests per second answered 4xx (499: the client went away), per route.',
          kind: 'timeseries',
          unit: 'reqps',
          width: 8,
          targets: [{ expr: `sum by (${LABEL.endpoint}) (${rate(METRIC.requests4xx)})`, legend: '{{endpoint}}' }],
        },
        {
          title: 'Server errors (5xx) per route',
          description: 'Requests per second answered 5xx, per route: what HighErrorRate alerts on.',
          kind: 'timeseries',
          unit: 'reqps',
          width: 8,
          targets: [{ expr: `sum by (${LABEL.endpoint}) (${rate(METRIC.requests5xx)})`, legend: '{{endpoint}}' }],
        },
        {
          title: 'Error ratio per route',
          description: "Share of each route's requests answered 5xx and 4xx (recorded, 5m window).",
          kind: 'timeseries',
          unit: 'percentunit',
          width: 8,
          targets: [
            { expr: `${RECORD.routeErrorRatio}{${ROUTES}}`, legend: '{{endpoint}} 5xx' },
            { expr: `${RECORD.routeClientErrorRatio}{${ROUTES}}`, legend: '{{endpoint}} 4xx' },
          ],
        },
      ],
    },
    {
      title: 'Latency',
      panels: [
        {
          title: 'p50, p95 and p99 per route',
          description: 'Latency quantiles per route across pods (recorded, 5m window).',
          kind: 'timeseries',
          unit: 's',
          width: 8,
          targets: [{ expr: `${RECORD.routeLatencyQuantile}{${ROUTES}}`, legend: '{{endpoint}} p{{quantile}}' }],
        },
        {
          title: 'p95 across pods and routes',
          description: "The guide's p95, with the buckets summed by le before histogram_quantile so it holds across pods.",
          kind: 'timeseries',
          unit: 's',
          width: 8,
          targets: [{ expr: `histogram_quantile(0.95, sum by (le) (${rate(`${METRIC.requestDuration}_bucket`)}))`, legend: 'p95' }],
        },
        {
          title: 'Mean latency per route',
          description:
            'Time spent per request, per route: the rate of the duration sum over the rate of the count, each summed across pods.',
          kind: 'timeseries',
          unit: 's',
          width: 8,
          targets: [
            {
              expr: `sum by (${LABEL.endpoint}) (${rate(`${METRIC.requestDuration}_sum`)}) / sum by (${LABEL.endpoint}) (${rate(`${METRIC.requestDuration}_count`)})`,
              legend: '{{endpoint}}',
            },
          ],
        },
      ],
    },
    {
      title: 'SLOs',
      panels: [
        ...specs.map<PanelSpec>((s) => ({
          title: `${s.name[0]!.toUpperCase()}${s.name.slice(1)}: error budget left`,
          description: `Share of the ${slo.period} error budget of the ${s.objective}% ${s.name} objective (${s.good}) not yet spent; below 0 the objective is missed.`,
          kind: 'stat',
          unit: 'percentunit',
          width: 4,
          targets: [{ expr: `${BUDGET_REMAINING}{slo="${s.name}",${SCOPE}}`, legend: s.name }],
        })),
        ...specs.map<PanelSpec>((s) => ({
          title: `${s.name[0]!.toUpperCase()}${s.name.slice(1)}: burn rate per window`,
          description: `How fast the ${s.name} error budget burns, per window: 1 spends exactly the budget over ${slo.period}. The burn-rate alerts compare pairs of these windows.`,
          kind: 'timeseries',
          unit: 'none',
          width: 8,
          targets: ALERT_WINDOWS.map((w) => ({ expr: `${sliErrorRatio(w)}{slo="${s.name}",${SCOPE}} / ${s.budget}`, legend: w })),
        })),
      ],
    },
    {
      title: 'Saturation',
      panels: [
        {
          title: 'CPU per pod',
          description: 'CPU seconds per second used by each API process.',
          kind: 'timeseries',
          unit: 'percentunit',
          width: 6,
          targets: [{ expr: `sum by (instance) (rate(process_cpu_seconds_total{${SCOPE}}[$__rate_interval]))`, legend: '{{instance}}' }],
        },
        {
          title: 'Memory per pod',
          description: 'Resident memory and used V8 heap of each API process.',
          kind: 'timeseries',
          unit: 'bytes',
          width: 6,
          targets: [
            { expr: `process_resident_memory_bytes{${SCOPE}}`, legend: '{{instance}} resident' },
            { expr: `sum by (instance) (nodejs_heap_size_used_bytes{${SCOPE}})`, legend: '{{instance}} heap used' },
          ],
        },
        {
          title: 'Event-loop lag per pod',
          description: 'p99 of the event-loop delay: high means the process is CPU-bound and every request waits.',
          kind: 'timeseries',
          unit: 's',
          width: 6,
          targets: [{ expr: `nodejs_eventloop_lag_p99_seconds{${SCOPE}}`, legend: '{{instance}}' }],
        },
        {
          title: 'Restarts in the time range',
          description: 'Process starts per pod in the selected time range (RestApiRestarting alerts on 3 in 15m).',
          kind: 'stat',
          unit: 'short',
          width: 6,
          targets: [{ expr: `sum(changes(${METRIC.processStartTime}{${SCOPE}}[$__range]))`, legend: 'restarts' }],
        },
      ],
    },
    {
      title: 'Scrape health',
      panels: [
        {
          title: 'Targets up',
          description: "Whether Prometheus's last scrape of each pod succeeded (1) or failed (0).",
          kind: 'timeseries',
          unit: 'short',
          width: 8,
          targets: [{ expr: `up{${SCOPE}}`, legend: '{{instance}}' }],
        },
        {
          title: 'Scrape duration',
          description: 'How long each scrape of /metrics takes; near the scrape timeout it starts failing.',
          kind: 'timeseries',
          unit: 's',
          width: 8,
          targets: [{ expr: `scrape_duration_seconds{${SCOPE}}`, legend: '{{instance}}' }],
        },
        {
          title: 'Samples per scrape',
          description: 'Samples each scrape returns; above the sample limit the scrape fails.',
          kind: 'timeseries',
          unit: 'short',
          width: 8,
          targets: [{ expr: `scrape_samples_scraped{${SCOPE}}`, legend: '{{instance}}' }],
        },
      ],
    },
  ];
}

/** The alert annotations: every firing alert of the install. */
export const ALERT_ANNOTATION_EXPR = `ALERTS{alertstate="firing",${SCOPE}}`;

/** The variables' queries, as Grafana's Prometheus data source runs them. */
export const VARIABLE_QUERIES = {
  namespace: `label_values(${METRIC.requestsTotal}, namespace)`,
  job: `label_values(${METRIC.requestsTotal}{namespace=~"$${VAR.namespace}"}, job)`,
  endpoint: `label_values(${METRIC.requestsTotal}{${SCOPE}}, ${LABEL.endpoint})`,
} as const;
