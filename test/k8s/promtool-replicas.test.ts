/**
 * The rules with two Prometheus replicas (prometheus.replicas: 2), through the real promtool.
 * Each replica scrapes every pod of the install itself, at its own moments, and evaluates the
 * rules on its own data; its series carry no replica label (the operator adds prometheus_replica
 * only to what a replica sends out, and drops it from alerts). So each replica's view must give
 * the same per-pod and total rates, and the same alert with the same labels: Alertmanager then
 * receives one alert twice and notifies once.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { ALERT, runbookUrl } from '../../k8s/alerts';
import { DEFAULT_RUNBOOK_BASE_URL, PROMETHEUS_REPLICA_LABEL, resolveConfig } from '../../k8s/config';
import { synth } from '../../k8s/main';
import { podRequestRateRecord, RECORD, scalerQuery } from '../../k8s/recording-rules';
import { LOCAL_RECORDING_RULES_FILE, LOCAL_RULES_FILE, LOCAL_SLO_RULES_FILE } from '../../k8s/rule-files';
import { appSelector } from '../../k8s/selectors';
import { METRIC } from '../../src/contract';
import { tempDir } from '../helpers/app';
import { requireInCi } from '../helpers/manifests';

const HAVE_PROMTOOL = spawnSync('promtool', ['--version']).status === 0;
requireInCi('the promtool tests with two Prometheus replicas', HAVE_PROMTOOL, 'install it with: apt-get install prometheus');
const describePromtool = HAVE_PROMTOOL ? describe : describe.skip;

const CONFIG = { autoscaling: { enabled: true, keda: { enabled: true } }, prometheus: { replicas: 2 } };
const JOB = { namespace: 'rest-api', job: 'rest-api' };
const PODS = [
  { ...JOB, pod: 'rest-api-7d9f-a', instance: '10.0.0.1:9464' },
  { ...JOB, pod: 'rest-api-7d9f-b', instance: '10.0.0.2:9464' },
];
/** Requests per second of each pod, and the 5xx per second of each. */
const RATES = [30, 20];
const ERRORS = [0.06, 0.06];
/** Samples every 15 s; replica b scrapes 5 s after replica a, so its counters read that much more. */
const STEP_S = 15;
const REPLICAS = { a: 0, b: 5 } as const;

const labelText = (labels: Record<string, string>) =>
  `{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}}`;
const counter = (name: string, labels: Record<string, string>, perSecond: number, offsetS: number, steps = 60) => ({
  series: `${name}${labelText(labels)}`,
  values: `${perSecond * offsetS}+${perSecond * STEP_S}x${steps}`,
});

const rounded = (expr: string) => `round(${expr}, 0.001)`;

/** What replica `offsetS` scrapes: each pod's GET /api/items requests and 5xx answers. */
const view = (offsetS: number) =>
  PODS.flatMap((pod, i) => {
    const route = { ...pod, method: 'GET', endpoint: '/api/items' };
    return [
      counter(METRIC.requestsTotal, { ...route, status: '200' }, RATES[i]! - ERRORS[i]!, offsetS),
      counter(METRIC.requestsTotal, { ...route, status: '503' }, ERRORS[i]!, offsetS),
      counter(METRIC.requests5xx, route, ERRORS[i]!, offsetS),
    ];
  });

describePromtool('the rules as each of two Prometheus replicas evaluates them', () => {
  let dir: string;
  const config = resolveConfig(CONFIG);
  beforeAll(async () => {
    dir = await tempDir('promtool-replicas');
    synth(config, dir);
  });

  function promtoolTest(name: string, test: Record<string, unknown>): { status: number | null; output: string } {
    const file = join(dir, 'local', `test-${name}.yml`);
    writeFileSync(
      file,
      stringify({
        rule_files: [LOCAL_RULES_FILE, LOCAL_RECORDING_RULES_FILE, LOCAL_SLO_RULES_FILE],
        evaluation_interval: `${STEP_S}s`,
        tests: [{ interval: `${STEP_S}s`, ...test }],
      }),
    );
    const r = spawnSync('promtool', ['test', 'rules', file], { cwd: join(dir, 'local'), encoding: 'utf8' });
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  }

  const scaler = scalerQuery(appSelector(config), config.autoscaling.keda.window);
  const record = podRequestRateRecord(config.autoscaling.keda.window);
  const total = RATES.reduce((a, b) => a + b);

  it.each(Object.entries(REPLICAS))('replica %s: one rate per pod, one total for KEDA, one per route', (replica, offsetS) => {
    const r = promtoolTest(`rates-${replica}`, {
      input_series: view(offsetS),
      // Rounded to a thousandth: the counters' float steps leave the last digits to chance.
      promql_expr_test: [
        {
          expr: rounded(`${record}{${appSelector(config)}}`),
          eval_time: '10m',
          exp_samples: PODS.map((pod, i) => ({ labels: labelText({ ...JOB, pod: pod.pod }), value: RATES[i] })),
        },
        { expr: rounded(scaler), eval_time: '10m', exp_samples: [{ labels: '{}', value: total }] },
        {
          expr: rounded(`${RECORD.routeRequestRate}{${appSelector(config)}}`),
          eval_time: '10m',
          exp_samples: [{ labels: labelText({ ...JOB, endpoint: '/api/items' }), value: total }],
        },
      ],
    });
    expect(r.output).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it.each(Object.entries(REPLICAS))(
    'replica %s: HighErrorRate fires once, summed over both pods, with labels of no pod and no replica',
    (replica, offsetS) => {
      const r = promtoolTest(`alert-${replica}`, {
        input_series: view(offsetS),
        alert_rule_test: [
          {
            eval_time: '10m',
            alertname: ALERT.highErrorRate,
            exp_alerts: [
              {
                exp_labels: { severity: 'critical', ...JOB, method: 'GET', endpoint: '/api/items' },
                exp_annotations: {
                  summary: 'High rate of 5xx responses on GET /api/items',
                  description:
                    'GET /api/items in namespace rest-api has answered 0.12 5xx responses per second over the last 5m (threshold 0.1/s).',
                  runbook_url: runbookUrl(DEFAULT_RUNBOOK_BASE_URL, ALERT.highErrorRate),
                },
              },
            ],
          },
        ],
      });
      expect(r.output).toContain('SUCCESS');
      expect(r.status).toBe(0);
    },
  );

  it('fails when a replica would count a pod twice (the harness can fail)', () => {
    const doubled = [...view(0), ...view(0).map((s) => ({ ...s, series: s.series.replace('{', `{${PROMETHEUS_REPLICA_LABEL}="b",`) }))];
    const r = promtoolTest('doubled', {
      input_series: doubled,
      promql_expr_test: [{ expr: rounded(scaler), eval_time: '10m', exp_samples: [{ labels: '{}', value: total }] }],
    });
    expect(r.status).not.toBe(0);
  });

  it('gives alerts labels that are the same on every replica: no value, no replica label', () => {
    const groups = (parse(readFileSync(join(dir, 'local', LOCAL_RULES_FILE), 'utf8')) as { groups: { rules: Record<string, unknown>[] }[] })
      .groups;
    const labels = groups.flatMap((g) => g.rules.filter((r) => 'alert' in r).map((r) => JSON.stringify(r.labels ?? {})));
    expect(labels.length).toBeGreaterThan(5);
    for (const l of labels) expect(l).not.toMatch(/\{\{|prometheus_replica|"prometheus"/);
  });
});
