import { spawnSync } from 'node:child_process';
import { CounterFamily } from '../../src/metrics/families';
import { resolveConfig } from '../../k8s/config';
import { allRuleGroups } from '../../k8s/rule-files';
import { DURATION_BUCKETS, METRIC, METRIC_LABELS, SCRAPE_UP, TARGET_LABELS } from '../../src/contract';
import { HttpMetrics, OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE } from '../../src/metrics/registry';
import { parseExposition, select } from '../helpers/exposition';
import { requireInCi } from '../helpers/manifests';

/** Debian's python3, which python3-prometheus-client installs into (a python3 earlier on PATH may lack it). */
const STRICT_PYTHON = '/usr/bin/python3';

async function exposition(metrics: HttpMetrics) {
  return parseExposition((await metrics.render('text')).body.toString());
}

describe('the metric contract', () => {
  it.each([
    [METRIC.requestsTotal, 'http_requests_total', 'counter', ['method', 'endpoint', 'status']],
    [METRIC.requestDuration, 'http_request_duration_seconds', 'histogram', ['method', 'endpoint']],
    [METRIC.requests4xx, 'http_requests_4xx_total', 'counter', ['method', 'endpoint']],
    [METRIC.requests5xx, 'http_requests_5xx_total', 'counter', ['method', 'endpoint']],
  ])('exports %s as a %s with exactly the guide labels', async (constant, name, type, labels) => {
    expect(constant).toBe(name);
    const metrics = new HttpMetrics({ version: '1.2.3', defaultMetrics: false });
    metrics.observe('GET', '/x', 500, 0.2);
    metrics.observe('GET', '/x', 404, 0.2);
    const exp = await exposition(metrics);
    expect(exp.types.get(name)).toBe(type);
    const sample = type === 'histogram' ? select(exp, `${name}_count`)[0] : select(exp, name)[0];
    expect(Object.keys(sample!.labels).sort()).toEqual([...labels].sort());
  });

  it('exports every metric of the contract with exactly the labels METRIC_LABELS gives it', async () => {
    const metrics = new HttpMetrics({ version: '1', ready: () => true });
    metrics.observe('GET', '/x', 404, 0.2);
    metrics.observe('GET', '/x', 500, 0.2);
    const exp = await exposition(metrics);
    for (const [name, labels] of Object.entries(METRIC_LABELS)) {
      const samples = exp.types.get(name) === 'histogram' ? select(exp, `${name}_count`) : select(exp, name);
      expect({ name, found: samples.length > 0 }).toEqual({ name, found: true });
      for (const sample of samples)
        expect({ name, labels: Object.keys(sample.labels).sort() }).toEqual({ name, labels: [...labels].sort() });
    }
  });

  it('has every rule of the PrometheusRule (alerts, recording, SLO) group, join and match only by labels its metrics or targets carry', () => {
    const config = resolveConfig({});
    const rules = allRuleGroups(config).flatMap((g) => g.rules);
    const labelsOf = (metric: string): readonly string[] => (METRIC_LABELS as Record<string, readonly string[]>)[metric] ?? [];
    const metricNames = Object.keys(METRIC_LABELS).concat(SCRAPE_UP);
    let checked = 0;
    for (const rule of rules) {
      const used = metricNames.filter((m) => new RegExp(`\\b${m}(_bucket|_count|_sum)?\\b`).test(rule.expr));
      if (used.length === 0) continue;
      const carried = new Set<string>([...TARGET_LABELS, ...used.flatMap(labelsOf), ...(/_bucket\b/.test(rule.expr) ? ['le'] : [])]);
      const grouped = [...rule.expr.matchAll(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g)].flatMap((m) =>
        m[1]!
          .split(',')
          .map((l) => l.trim())
          .filter(Boolean),
      );
      const matched = [...rule.expr.matchAll(/[{,]\s*([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)/g)].map((m) => m[1]!);
      expect({
        rule: 'alert' in rule ? rule.alert : rule.record,
        unknown: [...grouped, ...matched].filter((l) => !carried.has(l)),
      }).toEqual({ rule: 'alert' in rule ? rule.alert : rule.record, unknown: [] });
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(30);
  });

  it('has a histogram boundary at exactly 1 second, the HighResponseTime threshold', async () => {
    expect(DURATION_BUCKETS).toContain(1);
    const metrics = new HttpMetrics({ version: '1', defaultMetrics: false });
    metrics.observe('GET', '/x', 200, 1);
    const buckets = select(await exposition(metrics), 'http_request_duration_seconds_bucket');
    expect(buckets.find((b) => b.labels.le === '1')?.value).toBe(1);
    expect(buckets.find((b) => b.labels.le === '0.75')?.value).toBe(0);
  });

  it('counts a 4xx in the 4xx counter and a 5xx in the 5xx counter, alongside the total', async () => {
    const metrics = new HttpMetrics({ version: '1', defaultMetrics: false });
    for (const status of [200, 201, 404, 404, 422, 500, 503, 503]) metrics.observe('GET', '/x', status, 0.01);
    const exp = await exposition(metrics);
    expect(select(exp, 'http_requests_total').reduce((s, x) => s + x.value, 0)).toBe(8);
    expect(select(exp, 'http_requests_total', { status: '404' })[0]?.value).toBe(2);
    expect(select(exp, 'http_requests_4xx_total')[0]?.value).toBe(3);
    expect(select(exp, 'http_requests_5xx_total')[0]?.value).toBe(3);
  });

  it('includes the process metrics and a build-info metric, and no metric named up', async () => {
    const exp = await exposition(new HttpMetrics({ version: '4.5.6' }));
    expect(exp.types.get('process_cpu_user_seconds_total')).toBe('counter');
    expect(exp.types.get('process_resident_memory_bytes')).toBe('gauge');
    expect(exp.types.get('nodejs_eventloop_lag_seconds')).toBe('gauge');
    expect(select(exp, METRIC.buildInfo)).toEqual([{ name: METRIC.buildInfo, labels: { version: '4.5.6' }, value: 1 }]);
    expect(exp.types.has('up')).toBe(false);
  });

  it.each(['text', 'openmetrics'] as const)('exports rest_api_ready as an unlabelled gauge read at each scrape (%s)', async (format) => {
    let ready = false;
    const metrics = new HttpMetrics({ version: '1', defaultMetrics: false, ready: () => ready });
    const scrape = async () => (await metrics.render(format)).body.toString();
    const first = await scrape();
    expect(first).toContain(
      '# HELP rest_api_ready 1 when this instance is ready to serve (its store answers and it is not shutting down), else 0.',
    );
    expect(first).toContain('# TYPE rest_api_ready gauge');
    expect(select(parseExposition(first), METRIC.ready)).toEqual([{ name: METRIC.ready, labels: {}, value: 0 }]);
    ready = true;
    expect(select(parseExposition(await scrape()), METRIC.ready)).toEqual([{ name: METRIC.ready, labels: {}, value: 1 }]);
  });

  it('keeps each instance in its own registry', async () => {
    const a = new HttpMetrics({ version: '1', defaultMetrics: false });
    const b = new HttpMetrics({ version: '1', defaultMetrics: false });
    a.observe('GET', '/x', 200, 0.1);
    expect(select(await exposition(b), 'http_requests_total')).toHaveLength(0);
  });

  it('renders the Prometheus text format by default and OpenMetrics when asked', async () => {
    const metrics = new HttpMetrics({ version: '1', defaultMetrics: false });
    metrics.observe('GET', '/x', 200, 0.1);
    const text = await metrics.render(undefined);
    expect(text.contentType).toBe(PROMETHEUS_CONTENT_TYPE);
    expect(text.body.toString()).not.toContain('# EOF');
    const om = await metrics.render('openmetrics');
    const omBody = om.body.toString();
    expect(om.contentType).toBe(OPENMETRICS_CONTENT_TYPE);
    expect(omBody.trimEnd().endsWith('# EOF')).toBe(true);
    // OpenMetrics names the counter family without _total; its samples keep it.
    expect(omBody).toContain('# TYPE http_requests counter');
    expect(omBody).toMatch(/^http_requests_total\{method="GET",endpoint="\/x",status="200"\} 1$/m);
  });
});

describe('rendering both formats from one set of metrics', () => {
  it('keeps the text format intact after an OpenMetrics scrape', async () => {
    const metrics = new HttpMetrics({ version: '1' });
    metrics.observe('GET', '/x', 200, 0.1);
    const before = (await metrics.render('text')).body.toString();
    await metrics.render('openmetrics');
    const after = (await metrics.render('text')).body.toString();
    expect(after).toContain('# TYPE http_requests_total counter');
    expect(after).toContain('# TYPE process_cpu_user_seconds_total counter');
    expect(after.replace(/^(process|nodejs)_.*$/gm, '')).toEqual(before.replace(/^(process|nodejs)_.*$/gm, ''));
  });

  it("reports this scrape's event-loop delay figures, without prom-client's standard deviation", async () => {
    const metrics = new HttpMetrics({ version: '1' });
    // A few of the delay monitor's 10 ms samples; the first scrape must show them, not the zeros
    // a gauge read before the group's collect would still hold.
    await new Promise((resolve) => setTimeout(resolve, 40));
    const exp = parseExposition((await metrics.render('text')).body.toString());
    expect(select(exp, 'nodejs_eventloop_lag_max_seconds')[0]?.value).toBeGreaterThan(0);
    expect(select(exp, 'nodejs_eventloop_lag_p99_seconds')[0]?.value).toBeGreaterThan(0);
    expect(exp.types.get('nodejs_eventloop_lag_p50_seconds')).toBe('gauge');
    expect(exp.types.has('nodejs_eventloop_lag_stddev_seconds')).toBe(false);
  });

  it('renders the series that changed since the last scrape anew, in each format, and keeps the rest', async () => {
    const metrics = new HttpMetrics({ version: '1', defaultMetrics: false });
    metrics.observe('GET', '/x', 200, 0.1);
    metrics.observe('GET', '/y', 200, 0.1);
    const count = async (format: 'text' | 'openmetrics', endpoint: string) =>
      parseExposition((await metrics.render(format)).body.toString()).samples.find(
        (s) => s.name === 'http_request_duration_seconds_count' && s.labels.endpoint === endpoint,
      )?.value;
    const total = async (format: 'text' | 'openmetrics', endpoint: string) =>
      select(parseExposition((await metrics.render(format)).body.toString()), 'http_requests_total', { endpoint })[0]?.value;
    for (const format of ['text', 'openmetrics'] as const) {
      expect(await count(format, '/x')).toBe(1);
      expect(await total(format, '/x')).toBe(1);
    }
    metrics.observe('GET', '/x', 200, 3);
    for (const format of ['openmetrics', 'text'] as const) {
      expect(await count(format, '/x')).toBe(2);
      expect(await total(format, '/x')).toBe(2);
      expect(await count(format, '/y')).toBe(1);
    }
    const om = (await metrics.render('openmetrics')).body.toString();
    expect(om).toContain('http_request_duration_seconds_bucket{le="5.0",method="GET",endpoint="/x"} 2');
    expect(om).toContain('http_request_duration_seconds_bucket{le="2.5",method="GET",endpoint="/x"} 1');
    expect((await metrics.render('text')).body.toString()).toContain(
      'http_request_duration_seconds_bucket{le="5",method="GET",endpoint="/x"} 2',
    );
  });

  it('keeps every series whole when changed series with non-ASCII label values are encoded together', () => {
    const family = new CounterFamily('odd_total', 'odd', ['endpoint']);
    const endpoints = ['/a', '/café', '/b', '/naïve/\u{1F600}', '/c'];
    const render = (slice: number) => Buffer.concat([...family.chunks(slice, false)].flat()).toString();
    const lines = (values: number[]) => endpoints.map((e, i) => `odd_total{endpoint="${e}"} ${values[i]!}\n`).join('');
    endpoints.forEach((e, i) => (family.child(e).value = i + 1));
    expect(render(2)).toBe(lines([1, 2, 3, 4, 5]));
    // Two multi-byte series change, with unchanged ones between and around them.
    family.child('/café').value = 20;
    family.child('/naïve/\u{1F600}').value = 40;
    expect(render(2)).toBe(lines([1, 20, 3, 40, 5]));
  });

  it('keeps every line when the changed series of one chunk span several encoding groups', () => {
    const family = new CounterFamily('many_total', 'many', ['endpoint']);
    // 600 series of about 60 bytes: about 36 kB of changed text in one chunk, several groups.
    const endpoints = Array.from({ length: 600 }, (_, i) => `/r${i}${i % 3 === 0 ? '/ü' : ''}/${'x'.repeat(20)}`);
    const render = () => Buffer.concat([...family.chunks(100_000, false)].flat()).toString();
    const lines = (value: (i: number) => number) => endpoints.map((e, i) => `many_total{endpoint="${e}"} ${value(i)}\n`).join('');
    endpoints.forEach((e, i) => (family.child(e).value = i));
    expect(render()).toBe(lines((i) => i));
    // Every other series changes; the rest keep their views of the first render's groups.
    endpoints.forEach((e, i) => i % 2 === 0 && (family.child(e).value = i + 1000));
    expect(render()).toBe(lines((i) => (i % 2 === 0 ? i + 1000 : i)));
  });

  it('renders counters in OpenMetrics with the family name without _total and samples with it', async () => {
    const metrics = new HttpMetrics({ version: '1' });
    metrics.observe('GET', '/x', 503, 0.1);
    const om = (await metrics.render('openmetrics')).body.toString();
    for (const family of ['http_requests', 'http_requests_5xx', 'process_cpu_user_seconds']) {
      expect(om).toContain(`# TYPE ${family} counter`);
      expect(om).toMatch(new RegExp(`^${family}_total(\\{| )`, 'm'));
    }
    expect(om).not.toMatch(/_total_total/);
  });
});

describe('OpenMetrics as the specification writes it', () => {
  it('writes canonical bucket bounds in OpenMetrics and keeps the text format as queries know it', async () => {
    const metrics = new HttpMetrics({ version: '1' });
    metrics.observe('GET', '/x', 200, 0.3);
    const om = (await metrics.render('openmetrics')).body.toString();
    expect(om).toContain('http_request_duration_seconds_bucket{le="1.0",method="GET",endpoint="/x"} 1');
    expect(om).toContain('http_request_duration_seconds_bucket{le="0.25",method="GET",endpoint="/x"} 0');
    expect(om).not.toMatch(/_bucket\{(?:[^}]*,)?le="\d+"/);
    const text = (await metrics.render('text')).body.toString();
    expect(text).toContain('http_request_duration_seconds_bucket{le="1",method="GET",endpoint="/x"} 1');
  });

  it('escapes double quotes in HELP for OpenMetrics only', () => {
    const family = new CounterFamily('quoted_total', 'say "hi" \\ twice\nplease', []);
    expect(family.header(true)).toBe('# HELP quoted say \\"hi\\" \\\\ twice\\nplease\n# TYPE quoted counter');
    expect(family.header(false)).toBe('# HELP quoted_total say "hi" \\\\ twice\\nplease\n# TYPE quoted_total counter');
  });

  const HAVE_PARSER = spawnSync(STRICT_PYTHON, ['-c', 'import prometheus_client.openmetrics.parser'], { stdio: 'ignore' }).status === 0;
  requireInCi('the strict OpenMetrics parser', HAVE_PARSER, 'apt-get install python3-prometheus-client');

  (HAVE_PARSER ? it : it.skip)(
    'parses in the strict OpenMetrics parser of python3-prometheus-client, with every metric present',
    async () => {
      const metrics = new HttpMetrics({ version: '1', ready: () => true });
      metrics.declareRoute('GET', '/api/items/:id');
      metrics.observe('GET', '/a"b\\c\nd', 200, 0.3);
      metrics.observe('POST', '/api/items', 503, 2);
      // Let Node.js collect garbage so its GC histogram has buckets too.
      (globalThis as { gc?: () => void }).gc?.();
      const body = (await metrics.render('openmetrics')).body.toString();
      const script = [
        'import sys, json',
        'from prometheus_client.openmetrics.parser import text_string_to_metric_families',
        'families = list(text_string_to_metric_families(sys.stdin.read()))',
        'print(json.dumps(sorted(f.name for f in families)))',
      ].join('\n');
      const r = spawnSync(STRICT_PYTHON, ['-c', script], { input: body, encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const names = JSON.parse(r.stdout) as string[];
      for (const family of [
        'http_requests',
        'http_request_duration_seconds',
        'http_requests_4xx',
        'http_requests_5xx',
        'rest_api_build_info',
        'rest_api_ready',
        'process_cpu_user_seconds',
      ]) {
        expect(names).toContain(family);
      }
      // The parser is strict: a broken exposition fails (the check can fail).
      const broken = spawnSync(STRICT_PYTHON, ['-c', script], { input: body.replace('# EOF\n', ''), encoding: 'utf8' });
      expect(broken.status).not.toBe(0);
    },
  );
});

describe('the exposition', () => {
  const HAVE_PROMTOOL = spawnSync('promtool', ['--version']).status === 0;
  requireInCi('promtool check metrics', HAVE_PROMTOOL, 'apt-get install prometheus');

  (HAVE_PROMTOOL ? it : it.skip)('passes promtool check metrics, with label values that need escaping', async () => {
    const metrics = new HttpMetrics({ version: '1', defaultMetrics: false });
    metrics.observe('GET', '/a"b\\c\nd', 200, 0.3);
    metrics.observe('POST', '/x', 503, 2);
    metrics.declareRoute('GET', '/y');
    const body = (await metrics.render('text')).body.toString();
    const r = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
    const exp = parseExposition(body);
    expect(select(exp, 'http_requests_total', { endpoint: '/a"b\\c\nd' })[0]?.value).toBe(1);
  });

  it('renders many series in slices and keeps every sample', async () => {
    const metrics = new HttpMetrics({ version: '1', defaultMetrics: false });
    for (let i = 0; i < 3000; i++) metrics.observe('GET', `/r${i}`, 200, 0.01);
    const exp = parseExposition((await metrics.render('text')).body.toString());
    expect(select(exp, 'http_requests_total')).toHaveLength(3000);
    expect(select(exp, 'http_request_duration_seconds_bucket')).toHaveLength(3000 * 13);
  });
});
