/**
 * The generated Prometheus files through the real promtool: config and rules pass its checks,
 * and unit tests show every alert fires when it should, only after its `for`, and stays silent
 * below its threshold.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ALERT, runbookUrl } from '../../k8s/alerts';
import { DEFAULT_RUNBOOK_BASE_URL, resolveConfig } from '../../k8s/config';
import { LOCAL_CONFIG_FILE, LOCAL_RULES_FILE } from '../../k8s/local';
import { synth } from '../../k8s/main';
import { DURATION_BUCKETS, METRIC } from '../../src/contract';
import { tempDir } from '../helpers/app';
import { requireInCi } from '../helpers/manifests';

const HAVE_PROMTOOL = spawnSync('promtool', ['--version']).status === 0;
requireInCi('the promtool tests', HAVE_PROMTOOL, 'install it with: apt-get install prometheus');
const describePromtool = HAVE_PROMTOOL ? describe : describe.skip;

let dir: string;
beforeAll(async () => {
  dir = await tempDir('promtool');
  synth(resolveConfig({}), dir);
});

function promtool(...args: string[]): { status: number | null; output: string } {
  const r = spawnSync('promtool', args, { cwd: join(dir, 'local'), encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

const JOB = { namespace: 'rest-api', job: 'rest-api' };
/** The same app installed in another namespace of the same Prometheus. */
const OTHER_INSTALL = { namespace: 'shop', job: 'rest-api' };
const series = (name: string, labels: Record<string, string>, values: string) => ({
  series: `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}}`,
  values,
});

/**
 * Cumulative histogram bucket series for a steady load: `perMinute` requests a minute, of which
 * `share(le)` are at most `le` seconds.
 */
function histogram(labels: Record<string, string>, perMinute: number, share: (le: number) => number, minutes = 40) {
  return [
    ...[...DURATION_BUCKETS, Infinity].map((le) =>
      series(
        `${METRIC.requestDuration}_bucket`,
        { ...labels, le: le === Infinity ? '+Inf' : String(le) },
        `0+${Math.round(perMinute * (le === Infinity ? 1 : share(le)))}x${minutes}`,
      ),
    ),
    series(`${METRIC.requestDuration}_count`, labels, `0+${perMinute}x${minutes}`),
  ];
}

interface Expected {
  labels: Record<string, string>;
  summary: string;
  description: string;
}

interface AlertCase {
  name: string;
  input_series: { series: string; values: string }[];
  alert: string;
  /** [minute, the firing alerts expected then: labels besides alertname, and the rendered annotations] */
  checks: [number, Expected[]][];
}

const podA = { ...JOB, pod: 'rest-api-7d9f-a', instance: '10.0.0.1:9464' };
const route = { ...podA, method: 'GET', endpoint: '/api/items' };
const routeLabels = { severity: 'critical', ...JOB, method: 'GET', endpoint: '/api/items' };
const cases: AlertCase[] = [
  {
    name: 'HighErrorRate fires at 0.2 5xx/s, only after 5m',
    input_series: [series(METRIC.requests5xx, route, '0+12x30')],
    alert: ALERT.highErrorRate,
    checks: [
      [5, []],
      [
        10,
        [
          {
            labels: routeLabels,
            summary: 'High rate of 5xx responses on GET /api/items',
            description:
              'GET /api/items in namespace rest-api has answered 0.20 5xx responses per second over the last 5m (threshold 0.1/s).',
          },
        ],
      ],
    ],
  },
  {
    name: 'HighErrorRate never fires at 0.05 5xx/s',
    input_series: [series(METRIC.requests5xx, route, '0+3x30')],
    alert: ALERT.highErrorRate,
    checks: [
      [10, []],
      [30, []],
    ],
  },
  {
    name: 'HighErrorRate adds up the pods: two at 0.06/s each fire',
    input_series: [
      series(METRIC.requests5xx, route, '0+3.6x30'),
      series(METRIC.requests5xx, { ...route, instance: 'pod-b:9464' }, '0+3.6x30'),
    ],
    alert: ALERT.highErrorRate,
    checks: [
      [
        10,
        [
          {
            labels: routeLabels,
            summary: 'High rate of 5xx responses on GET /api/items',
            description:
              'GET /api/items in namespace rest-api has answered 0.12 5xx responses per second over the last 5m (threshold 0.1/s).',
          },
        ],
      ],
    ],
  },
  {
    name: 'HighErrorRate fires for the failing install only: its own namespace',
    input_series: [series(METRIC.requests5xx, route, '0+12x30'), series(METRIC.requests5xx, { ...route, ...OTHER_INSTALL }, '0+0x30')],
    alert: ALERT.highErrorRate,
    checks: [
      [
        10,
        [
          {
            labels: routeLabels,
            summary: 'High rate of 5xx responses on GET /api/items',
            description:
              'GET /api/items in namespace rest-api has answered 0.20 5xx responses per second over the last 5m (threshold 0.1/s).',
          },
        ],
      ],
    ],
  },
  {
    name: "HighErrorRate stays silent when only another namespace's install fails",
    input_series: [series(METRIC.requests5xx, route, '0+0x30'), series(METRIC.requests5xx, { ...route, ...OTHER_INSTALL }, '0+60x30')],
    alert: ALERT.highErrorRate,
    checks: [
      [10, []],
      [30, []],
    ],
  },
  {
    name: 'HighResponseTime fires at a p95 of 1.5s, only after 5m',
    // 200 requests a minute: 185 within 1s, the rest within 2.5s -> p95 = 1 + 1.5 * 5/15 = 1.5s.
    input_series: histogram(route, 200, (le) => (le < 1 ? 0 : le < 2.5 ? 185 / 200 : 1)),
    alert: ALERT.highResponseTime,
    checks: [
      [5, []],
      [
        10,
        [
          {
            labels: { severity: 'warning', ...JOB, endpoint: '/api/items' },
            summary: 'p95 latency of /api/items above 1s',
            description:
              'The 95th percentile response time of /api/items in namespace rest-api is 1.5s over the last 5m (threshold 1s, counted from 0.1 requests/s up).',
          },
        ],
      ],
    ],
  },
  {
    name: 'HighResponseTime stays silent on a quiet route: one slow request a minute',
    input_series: histogram(route, 1, (le) => (le < 2.5 ? 0 : 1)),
    alert: ALERT.highResponseTime,
    checks: [
      [10, []],
      [30, []],
    ],
  },
  {
    name: 'HighResponseTime never fires at a p95 of 0.5s',
    input_series: histogram(route, 200, (le) => (le < 0.25 ? 0 : le < 0.5 ? 0 : le < 0.75 ? 190 / 200 : 1)),
    alert: ALERT.highResponseTime,
    checks: [
      [10, []],
      [30, []],
    ],
  },
  {
    name: 'HighResponseTime ignores a few slow requests among many fast ones',
    // 4 of 200 requests a minute take 5s; the rest answer within 100ms.
    input_series: histogram(route, 200, (le) => (le < 0.1 ? 0.5 : le < 10 ? 196 / 200 : 1)),
    alert: ALERT.highResponseTime,
    checks: [
      [10, []],
      [30, []],
    ],
  },
  {
    name: 'HighErrorRatio fires when 10% of requests fail',
    input_series: [
      series(METRIC.requests5xx, route, '0+60x30'),
      series(METRIC.requestsTotal, { ...route, status: '200' }, '0+540x30'),
      series(METRIC.requestsTotal, { ...route, status: '500' }, '0+60x30'),
    ],
    alert: ALERT.highErrorRatio,
    checks: [
      [3, []],
      [
        10,
        [
          {
            labels: { severity: 'critical', ...JOB },
            summary: 'More than 5% of requests fail with 5xx',
            description: '10% of requests to rest-api/rest-api answered 5xx over the last 5m (threshold 5%).',
          },
        ],
      ],
    ],
  },
  {
    name: 'HighErrorRatio stays silent below one request a minute',
    input_series: [series(METRIC.requests5xx, route, '0+0.5x30'), series(METRIC.requestsTotal, { ...route, status: '500' }, '0+0.5x30')],
    alert: ALERT.highErrorRatio,
    checks: [[10, []]],
  },
  {
    name: 'RestApiTargetDown fires after 2m of failed scrapes, naming the pod and namespace',
    input_series: [series('up', podA, '1 1 0x20')],
    alert: ALERT.targetDown,
    checks: [
      [3, []],
      [
        6,
        [
          {
            labels: { severity: 'warning', ...podA },
            summary: 'Prometheus cannot scrape rest-api/rest-api-7d9f-a',
            description:
              'Pod rest-api/rest-api-7d9f-a (target 10.0.0.1:9464) has failed its scrapes for 2m: it is down, not serving /metrics, or unreachable from Prometheus (a NetworkPolicy?).',
          },
        ],
      ],
    ],
  },
  {
    name: 'RestApiTargetMissing fires after 5m without any target',
    input_series: [series('up', { job: 'other', instance: 'x:1' }, '1x20')],
    alert: ALERT.targetMissing,
    checks: [
      [4, []],
      [
        8,
        [
          {
            labels: { severity: 'critical', ...JOB },
            summary: 'Prometheus has no rest-api target in namespace rest-api',
            description:
              'No target of job rest-api in namespace rest-api has existed for 5m: the ServiceMonitor is not selected by this Prometheus, its Service selects no pods, or the app is not deployed.',
          },
        ],
      ],
    ],
  },
  {
    name: "RestApiTargetMissing is not hidden by another namespace's install of the same job",
    input_series: [series('up', { ...OTHER_INSTALL, pod: 'rest-api-x', instance: '10.0.1.1:9464' }, '1x20')],
    alert: ALERT.targetMissing,
    checks: [
      [
        8,
        [
          {
            labels: { severity: 'critical', ...JOB },
            summary: 'Prometheus has no rest-api target in namespace rest-api',
            description:
              'No target of job rest-api in namespace rest-api has existed for 5m: the ServiceMonitor is not selected by this Prometheus, its Service selects no pods, or the app is not deployed.',
          },
        ],
      ],
    ],
  },
  {
    name: 'RestApiTargetMissing stays silent while the target exists',
    input_series: [series('up', podA, '1x20')],
    alert: ALERT.targetMissing,
    checks: [[10, []]],
  },
  {
    name: 'RestApiNotReady fires when no pod has been ready for 3m',
    input_series: [
      series(METRIC.ready, podA, '1 1 0x20'),
      series(METRIC.ready, { ...podA, pod: 'rest-api-7d9f-b', instance: '10.0.0.2:9464' }, '1 1 1 0x20'),
    ],
    alert: ALERT.notReady,
    checks: [
      [4, []],
      [
        7,
        [
          {
            labels: { severity: 'critical', ...JOB },
            summary: 'No pod of rest-api/rest-api is ready',
            description:
              'No pod of rest-api in namespace rest-api has been ready for 3m: the Service has no endpoints and clients cannot reach the API. A pod is not ready while its database is unreachable or it is shutting down.',
          },
        ],
      ],
    ],
  },
  {
    name: 'RestApiNotReady stays silent while one pod is ready',
    input_series: [
      series(METRIC.ready, podA, '0x20'),
      series(METRIC.ready, { ...podA, pod: 'rest-api-7d9f-b', instance: '10.0.0.2:9464' }, '1x20'),
    ],
    alert: ALERT.notReady,
    checks: [[10, []]],
  },
  {
    name: 'RestApiRestarting fires on 3 restarts in 15m',
    input_series: [series(METRIC.processStartTime, podA, '100 100 200 200 300 300 400 400 400 400')],
    alert: ALERT.restarting,
    checks: [
      [3, []],
      [
        8,
        [
          {
            labels: { severity: 'warning', ...podA },
            summary: 'rest-api/rest-api-7d9f-a keeps restarting',
            description: 'Pod rest-api/rest-api-7d9f-a restarted 3 times in the last 15m.',
          },
        ],
      ],
    ],
  },
];

describePromtool('promtool', () => {
  it('accepts the generated prometheus.yml and its rule file', () => {
    const r = promtool('check', 'config', LOCAL_CONFIG_FILE);
    expect(r.output).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it('accepts the generated alert rules', () => {
    const r = promtool('check', 'rules', LOCAL_RULES_FILE);
    expect(r.output).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.status).toBe(0);
  });

  it('covers every alert with a unit test', () => {
    expect(new Set(cases.map((c) => c.alert))).toEqual(new Set(Object.values(ALERT)));
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const file = join(dir, 'local', `test-${cases.indexOf(c)}.yml`);
    writeFileSync(
      file,
      stringify({
        rule_files: [LOCAL_RULES_FILE],
        evaluation_interval: '1m',
        tests: [
          {
            interval: '1m',
            input_series: c.input_series,
            alert_rule_test: c.checks.map(([minute, alerts]) => ({
              eval_time: `${minute}m`,
              alertname: c.alert,
              exp_alerts: alerts.map((a) => ({
                exp_labels: a.labels,
                exp_annotations: {
                  summary: a.summary,
                  description: a.description,
                  runbook_url: runbookUrl(DEFAULT_RUNBOOK_BASE_URL, c.alert),
                },
              })),
            })),
          },
        ],
      }),
    );
    const r = promtool('test', 'rules', file);
    expect(r.output).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it('fails a unit test whose expectation is wrong (the harness can fail)', () => {
    const file = join(dir, 'local', 'test-wrong.yml');
    writeFileSync(
      file,
      stringify({
        rule_files: [LOCAL_RULES_FILE],
        tests: [
          {
            interval: '1m',
            input_series: [series(METRIC.requests5xx, route, '0+3x30')],
            alert_rule_test: [{ eval_time: '10m', alertname: ALERT.highErrorRate, exp_alerts: [{ exp_labels: { severity: 'critical' } }] }],
          },
        ],
      }),
    );
    expect(promtool('test', 'rules', file).status).not.toBe(0);
  });
});
