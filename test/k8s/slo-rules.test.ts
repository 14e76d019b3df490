/**
 * The recording rules and the SLO burn-rate alerts: their scaling and config checks as plain
 * functions, then the generated rule files through the real promtool — each alert pages on a
 * fast burn, warns on a slow one, and stays silent at a burn rate below 1; the recording rules
 * answer what they are named for.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { runbookUrl } from '../../k8s/alerts';
import { DEFAULT_RUNBOOK_BASE_URL, resolveConfig } from '../../k8s/config';
import { RECORD } from '../../k8s/recording-rules';
import { LOCAL_RECORDING_RULES_FILE, LOCAL_SLO_RULES_FILE } from '../../k8s/rule-files';
import { ALERT_WINDOWS, BURN_WINDOWS, burnFactor, SLO_ALERT } from '../../k8s/burn-rates';
import { printedValues } from '../../k8s/printed';
import { resolveWhen } from '../../k8s/rules';
import { sliErrorRatio, sloRuleGroups } from '../../k8s/slo';
import { synth } from '../../k8s/main';
import { METRIC } from '../../src/contract';
import { tempDir } from '../helpers/app';
import { requireInCi } from '../helpers/manifests';

describe('the SLO configuration', () => {
  it('defaults to 99.9% availability and 99% of requests within 1s over 14 days', () => {
    expect(resolveConfig({}).slo).toEqual({
      period: '14d',
      availability: { objective: 99.9 },
      latency: { objective: 99, thresholdSeconds: 1 },
    });
  });

  it.each([
    [{ slo: { period: '30d' } }, 'slo.period = "30d": (30d) must not be longer than the Prometheus retention (prometheus.retention 15d)'],
    [
      { slo: { latency: { thresholdSeconds: 0.3 } } },
      'slo.latency.thresholdSeconds = 0.3: must be a bucket boundary of http_request_duration_seconds',
    ],
    [{ slo: { availability: { objective: 100 } } }, 'slo.availability.objective = 100: must be a percentage below 100'],
  ])('refuses %j', (input, message) => {
    expect(() => resolveConfig(input)).toThrow(message);
  });

  it('accepts a 30-day period with a retention that keeps 30 days', () => {
    expect(resolveConfig({ slo: { period: '30d' }, prometheus: { retention: '31d' } }).slo.period).toBe('30d');
  });
});

describe('the burn-rate thresholds', () => {
  it('are the workbook figures for a 30-day period', () => {
    expect(BURN_WINDOWS.map((b) => burnFactor(b.factor30d, '30d'))).toEqual([14.4, 6, 3, 1]);
  });

  it('spend the same share of a shorter budget, never alerting below a burn rate of 1', () => {
    expect(BURN_WINDOWS.map((b) => burnFactor(b.factor30d, '14d'))).toEqual([6.72, 2.8, 1.4, 1]);
  });

  it.each([
    ['14d', [...ALERT_WINDOWS, '14d']],
    ['3d', ALERT_WINDOWS],
  ])('record every window the alerts read, and the period (%s) once', (period, windows) => {
    expect(ALERT_WINDOWS).toEqual(['5m', '30m', '1h', '2h', '6h', '1d', '3d']);
    const groups = resolveWhen(sloRuleGroups(printedValues(resolveConfig({ slo: { period } })), 'namespace="a",job="b"'));
    const ratios = groups[0]!.rules.flatMap((r) => ('record' in r && r.record.includes('sli_error') ? [r.record] : []));
    expect(ratios).toEqual(windows.map(sliErrorRatio));
    const recorded = new Set(groups.flatMap((g) => g.rules.flatMap((r) => ('record' in r ? [r.record] : []))));
    for (const g of groups) {
      for (const r of g.rules) {
        if ('alert' in r) for (const name of r.expr.match(/namespace_job:[a-z_]+:[a-z_0-9]+/g) ?? []) expect(recorded).toContain(name);
      }
    }
    expect(recorded).toContain(sliErrorRatio('3d'));
  });
});

const HAVE_PROMTOOL = spawnSync('promtool', ['--version']).status === 0;
requireInCi('the promtool tests of the SLO and recording rules', HAVE_PROMTOOL, 'install it with: apt-get install prometheus');
const describePromtool = HAVE_PROMTOOL ? describe : describe.skip;

const POD = { namespace: 'rest-api', job: 'rest-api', instance: 'pod-a:9464' };
const ROUTE = { ...POD, method: 'GET', endpoint: '/api/items' };
const SCOPE = { namespace: 'rest-api', job: 'rest-api' };
const series = (name: string, labels: Record<string, string>, values: string) => ({
  series: `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}}`,
  values,
});

/** Go's `%.4g`, as Prometheus's humanizePercentage prints (value * 100). */
function humanizePercentage(ratio: number): string {
  return `${(ratio * 100)
    .toPrecision(4)
    .replace(/(\.\d*?)0+$/, '$1')
    .replace(/\.$/, '')}%`;
}

const BUDGET = { availability: 0.001, latency: 0.01 };
const GOOD = { availability: 'requests not answered 5xx', latency: 'requests answered within 1s' };
const OBJECTIVE = { availability: '99.9', latency: '99' };
const WINDOWS = { critical: '1h (and 5m) at 6.72x or 6h (and 30m) at 2.8x', warning: '1d (and 2h) at 1.4x or 3d (and 6h) at 1x' };

/** The firing alert expected: `burn` is the burn rate over its long window, `errorRatio` the share of bad requests over the whole history (the period). */
function firing(slo: 'availability' | 'latency', severity: 'critical' | 'warning', burn: number, periodErrorRatio: number) {
  const alert = SLO_ALERT[slo];
  return {
    exp_labels: { severity, slo, ...SCOPE },
    exp_annotations: {
      summary: `rest-api is burning its ${slo} error budget ${severity === 'critical' ? 'fast' : 'steadily'}`,
      description:
        `The ${OBJECTIVE[slo]}% ${slo} SLO (${GOOD[slo]}, over 14d) is burning its error budget ${burn.toFixed(1)}x as fast as it may, ` +
        `over ${WINDOWS[severity]}. ${humanizePercentage(1 - periodErrorRatio / BUDGET[slo])} of the 14d budget is left.`,
      runbook_url: runbookUrl(DEFAULT_RUNBOOK_BASE_URL, alert),
    },
  };
}

interface BurnCase {
  name: string;
  slo: 'availability' | 'latency';
  input_series: { series: string; values: string }[];
  /** [minute, expected firing alerts] */
  checks: [number, ReturnType<typeof firing>[]][];
}

/**
 * 1000 requests a minute. Fast burn: clean for 100 minutes, then 2% 5xx (20% slower than 1s):
 * a burn rate of 20. At minute 130 the last hour holds 600 bad of 60,000 (burn 10), the whole
 * history 600 of 130,000 (burn 4.6 over the day, budget left 1 - 4.615).
 */
const cases: BurnCase[] = [
  {
    name: 'RestApiErrorBudgetBurn pages on a fast burn once the 1h window confirms the 5m one',
    slo: 'availability',
    input_series: [
      series(METRIC.requestsTotal, { ...ROUTE, status: '200' }, '0+1000x100 100980+980x100'),
      series(METRIC.requestsTotal, { ...ROUTE, status: '500' }, '0x100 20+20x100'),
      series(METRIC.requests5xx, ROUTE, '0x100 20+20x100'),
    ],
    checks: [
      [115, []],
      [130, [firing('availability', 'critical', 10, 600 / 130000), firing('availability', 'warning', 600 / 130000 / 0.001, 600 / 130000)]],
    ],
  },
  {
    name: 'RestApiErrorBudgetBurn warns without paging at a burn rate of 2',
    slo: 'availability',
    input_series: [
      series(METRIC.requestsTotal, { ...ROUTE, status: '200' }, '0+998x100'),
      series(METRIC.requestsTotal, { ...ROUTE, status: '500' }, '0+2x100'),
      series(METRIC.requests5xx, ROUTE, '0+2x100'),
    ],
    checks: [
      [10, []],
      [30, [firing('availability', 'warning', 2, 0.002)]],
      [90, [firing('availability', 'warning', 2, 0.002)]],
    ],
  },
  {
    name: 'RestApiErrorBudgetBurn stays silent at a burn rate of 0.5, for a day',
    slo: 'availability',
    input_series: [
      series(METRIC.requestsTotal, { ...ROUTE, status: '200' }, '0+999.5x1500'),
      series(METRIC.requestsTotal, { ...ROUTE, status: '500' }, '0+0.5x1500'),
      series(METRIC.requests5xx, ROUTE, '0+0.5x1500'),
    ],
    checks: [
      [60, []],
      [400, []],
      [1500, []],
    ],
  },
  {
    name: 'RestApiErrorBudgetBurn ignores 4xx and 499 (40% of requests)',
    slo: 'availability',
    input_series: [
      series(METRIC.requestsTotal, { ...ROUTE, status: '200' }, '0+600x200'),
      series(METRIC.requestsTotal, { ...ROUTE, status: '404' }, '0+300x200'),
      series(METRIC.requestsTotal, { ...ROUTE, status: '499' }, '0+100x200'),
      series(METRIC.requests4xx, ROUTE, '0+400x200'),
      series(METRIC.requests5xx, ROUTE, '0x200'),
    ],
    checks: [
      [30, []],
      [200, []],
    ],
  },
  {
    name: 'RestApiLatencyBudgetBurn pages when 20% of requests take over 1s',
    slo: 'latency',
    input_series: [
      series(`${METRIC.requestDuration}_bucket`, { ...ROUTE, le: '1' }, '0+1000x100 100800+800x100'),
      series(`${METRIC.requestDuration}_count`, ROUTE, '0+1000x200'),
    ],
    checks: [
      [115, []],
      [130, [firing('latency', 'critical', 10, 6000 / 130000), firing('latency', 'warning', 6000 / 130000 / 0.01, 6000 / 130000)]],
    ],
  },
  {
    name: 'RestApiLatencyBudgetBurn pages the same on Prometheus 3, which stores the bucket as le="1.0"',
    slo: 'latency',
    input_series: [
      series(`${METRIC.requestDuration}_bucket`, { ...ROUTE, le: '1.0' }, '0+1000x100 100800+800x100'),
      series(`${METRIC.requestDuration}_count`, ROUTE, '0+1000x200'),
    ],
    checks: [[130, [firing('latency', 'critical', 10, 6000 / 130000), firing('latency', 'warning', 6000 / 130000 / 0.01, 6000 / 130000)]]],
  },
  {
    name: 'RestApiLatencyBudgetBurn stays silent when 0.5% of requests take over 1s (burn rate 0.5)',
    slo: 'latency',
    input_series: [
      series(`${METRIC.requestDuration}_bucket`, { ...ROUTE, le: '1' }, '0+995x1500'),
      series(`${METRIC.requestDuration}_count`, ROUTE, '0+1000x1500'),
    ],
    checks: [
      [60, []],
      [400, []],
      [1500, []],
    ],
  },
];

describePromtool('the SLO and recording rules through promtool', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir('slo-promtool');
    synth(resolveConfig({}), dir);
  });

  function promtoolTest(name: string, test: Record<string, unknown>): { status: number | null; output: string } {
    const file = join(dir, 'local', `test-${name}.yml`);
    writeFileSync(
      file,
      stringify({
        rule_files: [LOCAL_RECORDING_RULES_FILE, LOCAL_SLO_RULES_FILE],
        evaluation_interval: '1m',
        tests: [{ interval: '1m', ...test }],
      }),
    );
    const r = spawnSync('promtool', ['test', 'rules', file], { cwd: join(dir, 'local'), encoding: 'utf8' });
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  }

  it('accepts the rule files', () => {
    const r = spawnSync('promtool', ['check', 'rules', LOCAL_RECORDING_RULES_FILE, LOCAL_SLO_RULES_FILE], {
      cwd: join(dir, 'local'),
      encoding: 'utf8',
    });
    expect(r.stdout).toMatch(/SUCCESS: \d+ rules found[\s\S]*SUCCESS: \d+ rules found/);
    expect(r.status).toBe(0);
  });

  it('covers both burn-rate alerts, each paging and staying silent', () => {
    for (const slo of ['availability', 'latency'] as const) {
      const mine = cases.filter((c) => c.slo === slo);
      expect(mine.some((c) => c.checks.some(([, a]) => a.some((x) => x.exp_labels.severity === 'critical')))).toBe(true);
      expect(mine.some((c) => c.checks.every(([, a]) => a.length === 0))).toBe(true);
    }
  });

  it.each(cases.map((c, i) => [c.name, c, i] as const))('%s', (_name, c, i) => {
    const r = promtoolTest(`burn-${i}`, {
      input_series: c.input_series,
      alert_rule_test: c.checks.map(([minute, alerts]) => ({ eval_time: `${minute}m`, alertname: SLO_ALERT[c.slo], exp_alerts: alerts })),
    });
    expect(r.output).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it('records 4xx and 499 as no error for the availability SLI', () => {
    const r = promtoolTest('sli-4xx', {
      input_series: cases[3]!.input_series,
      promql_expr_test: [
        {
          expr: `${sliErrorRatio('5m')}{slo="availability"}`,
          eval_time: '30m',
          exp_samples: [{ labels: `${sliErrorRatio('5m')}{slo="availability",namespace="rest-api",job="rest-api"}`, value: 0 }],
        },
      ],
    });
    expect(r.output).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it('fails a test whose expectation is wrong (the harness can fail)', () => {
    const wrong = cases[2]!;
    const r = promtoolTest('wrong', {
      input_series: wrong.input_series,
      alert_rule_test: [
        { eval_time: '400m', alertname: SLO_ALERT.availability, exp_alerts: [firing('availability', 'critical', 0.5, 0.0005)] },
      ],
    });
    expect(r.status).not.toBe(0);
  });

  /**
   * Two pods on GET /api/items, 10 requests a second each over 5 minutes. Pod a answers half of
   * its requests 5xx, all within 0.1s (mean 0.075s); pod b answers 200 within 0.1–0.25s (mean 0.2s).
   */
  it('records request rate, error ratio, latency quantiles and mean per route, summed across pods', () => {
    const a = ROUTE;
    const b = { ...ROUTE, instance: 'pod-b:9464' };
    const bucket = (labels: Record<string, string>, le: string, perMinute: number) =>
      series(`${METRIC.requestDuration}_bucket`, { ...labels, le }, `0+${perMinute}x30`);
    const scope = 'endpoint="/api/items",job="rest-api",namespace="rest-api"';
    const r = promtoolTest('recording', {
      input_series: [
        series(METRIC.requestsTotal, { ...a, status: '200' }, '0+300x30'),
        series(METRIC.requestsTotal, { ...a, status: '500' }, '0+300x30'),
        series(METRIC.requestsTotal, { ...b, status: '200' }, '0+600x30'),
        series(METRIC.requests5xx, a, '0+300x30'),
        series(METRIC.requests5xx, b, '0x30'),
        series(METRIC.requests4xx, a, '0x30'),
        series(METRIC.requests4xx, b, '0x30'),
        ...[a, b].flatMap((labels) =>
          ['0.05', '0.1', '0.25', '+Inf'].map((le) =>
            bucket(labels, le, labels === a ? (le === '0.05' ? 0 : 600) : le === '0.25' || le === '+Inf' ? 600 : 0),
          ),
        ),
        series(`${METRIC.requestDuration}_sum`, a, '0+45x30'),
        series(`${METRIC.requestDuration}_count`, a, '0+600x30'),
        series(`${METRIC.requestDuration}_sum`, b, '0+120x30'),
        series(`${METRIC.requestDuration}_count`, b, '0+600x30'),
      ],
      promql_expr_test: [
        { expr: RECORD.routeRequestRate, eval_time: '10m', exp_samples: [{ labels: `${RECORD.routeRequestRate}{${scope}}`, value: 20 }] },
        {
          expr: RECORD.requestRate,
          eval_time: '10m',
          exp_samples: [
            { labels: `${RECORD.requestRate}{${scope},method="GET",status="200"}`, value: 15 },
            { labels: `${RECORD.requestRate}{${scope},method="GET",status="500"}`, value: 5 },
          ],
        },
        { expr: RECORD.routeErrorRatio, eval_time: '10m', exp_samples: [{ labels: `${RECORD.routeErrorRatio}{${scope}}`, value: 0.25 }] },
        {
          expr: RECORD.routeClientErrorRatio,
          eval_time: '10m',
          exp_samples: [{ labels: `${RECORD.routeClientErrorRatio}{${scope}}`, value: 0 }],
        },
        {
          expr: RECORD.routeLatencyQuantile,
          eval_time: '10m',
          exp_samples: [
            // Half the requests (pod a's) within 0.1s: the median is that bucket's upper bound.
            { labels: `${RECORD.routeLatencyQuantile}{${scope},quantile="0.5"}`, value: 0.1 },
            // 19 of 20 a second: 9 of the 10 in the (0.1, 0.25] bucket, interpolated as Prometheus does.
            { labels: `${RECORD.routeLatencyQuantile}{${scope},quantile="0.95"}`, value: 0.1 + (0.25 - 0.1) * ((0.95 * 20 - 10) / 10) },
            { labels: `${RECORD.routeLatencyQuantile}{${scope},quantile="0.99"}`, value: 0.1 + (0.25 - 0.1) * ((0.99 * 20 - 10) / 10) },
          ],
        },
        {
          expr: RECORD.routeLatencyMean,
          eval_time: '10m',
          exp_samples: [{ labels: `${RECORD.routeLatencyMean}{${scope}}`, value: 2.75 / 20 }],
        },
      ],
    });
    expect(r.output).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });
});
