/**
 * The generated Grafana dashboard, read as Grafana and its dashboard linter read one: uid,
 * grid, data source variable on every query, declared variables, expressions, `$__rate_interval`,
 * and the guide's metric families; then where the synth and the chart put it.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { VariableType } from '@grafana/grafana-foundation-sdk/dashboard';
import { parse } from 'yaml';
import { dashboardTemplate } from '../../k8s/helm';
import { resolveConfig } from '../../k8s/config';
import { dashboardJson } from '../../k8s/dashboard';
import { DATASOURCE, MAX_UID_LENGTH } from '../../k8s/dashboard/dashboard';
import { LOCAL_GRAFANA_DIR } from '../../k8s/grafana-local';
import { synth } from '../../k8s/main';
import { allRuleGroups } from '../../k8s/rule-files';
import { METRIC } from '../../src/contract';
import { tempDir } from '../helpers/app';
import { isPanel, isRow, parseDashboard } from '../helpers/dashboard';
import { find, manifests } from '../helpers/manifests';

const config = resolveConfig({});
const dashboard = parseDashboard(dashboardJson(config));
const panels = dashboard.panels.filter(isPanel);
const rows = dashboard.panels.filter(isRow);
const targets = panels.flatMap((p) => p.targets);
const variables = dashboard.templating.list;
const annotations = dashboard.annotations.list;

/**
 * Every `$name` / `${name}` Grafana would interpolate in `text`; built-ins (`$__…`) and
 * label_replace's group references (`${1}`, which Grafana leaves alone) excluded.
 */
function variablesUsed(text: string): string[] {
  return [...text.matchAll(/\$\{(\w+)(?:[:.][^}]*)?\}|\$(\w+)/g)]
    .map((m) => (m[1] ?? m[2])!)
    .filter((n) => !n.startsWith('__') && !/^\d+$/.test(n));
}

describe('the dashboard', () => {
  it('has a uid Grafana accepts (1 to 40 characters), even for a long app name', () => {
    expect(dashboard.uid).toBe('rest-api');
    const long = parseDashboard(dashboardJson(resolveConfig({ name: 'a'.repeat(52) })));
    expect(long.uid?.length).toBe(MAX_UID_LENGTH);
  });

  it('is read-only in Grafana: it is generated', () => {
    expect(dashboard.editable).toBe(false);
  });

  it('has the rows the README describes, in its order', () => {
    // The README's table of rows: `| row | answers |`, one line per row.
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('| row ')).split('\n\n')[0]!;
    const described = table
      .split('\n')
      .slice(2)
      .map((line) => line.split('|')[1]!.trim());
    expect(described.length).toBeGreaterThan(3);
    expect(rows.map((r) => r.title)).toEqual(described);
    process.stdout.write(`dashboard: ${rows.length} rows, ${panels.length} panels, ${targets.length} queries\n`);
  });

  it('keeps every panel inside the 24-column grid, without overlaps', () => {
    for (const p of dashboard.panels) {
      const { x, y, w, h } = p.gridPos;
      expect({ title: p.title, inside: x >= 0 && y >= 0 && w >= 1 && h >= 1 && x + w <= 24 }).toEqual({ title: p.title, inside: true });
    }
    const cells = new Set<string>();
    for (const p of dashboard.panels) {
      for (let col = p.gridPos.x; col < p.gridPos.x + p.gridPos.w; col++) {
        for (let row = p.gridPos.y; row < p.gridPos.y + p.gridPos.h; row++) {
          const cell = `${col},${row}`;
          expect({ title: p.title, overlaps: cells.has(cell) }).toEqual({ title: p.title, overlaps: false });
          cells.add(cell);
        }
      }
    }
  });

  it('queries through the datasource variable everywhere: panels, targets, variables, annotations', () => {
    expect(DATASOURCE).toEqual({ type: 'prometheus', uid: '${datasource}' });
    for (const p of panels) expect({ title: p.title, ds: p.datasource }).toEqual({ title: p.title, ds: DATASOURCE });
    for (const t of targets) expect({ expr: t.expr, ds: t.datasource }).toEqual({ expr: t.expr, ds: DATASOURCE });
    for (const v of variables.filter((x) => x.type === VariableType.Query)) expect(v.datasource).toEqual(DATASOURCE);
    for (const a of annotations) expect(a.datasource).toEqual(DATASOURCE);
  });

  it('declares a Prometheus datasource variable defaulting to uid prometheus, and namespace, job and endpoint', () => {
    const byName = Object.fromEntries(variables.map((v) => [v.name, v]));
    expect(Object.keys(byName)).toEqual(['datasource', 'namespace', 'job', 'endpoint']);
    expect(byName.datasource).toMatchObject({ type: 'datasource', query: 'prometheus', current: { value: 'prometheus' } });
    // Multi-value with `.+` for all, labelled like the label: grafana/dashboard-linter's template-job-rule.
    for (const name of ['namespace', 'job', 'endpoint'])
      expect(byName[name]).toMatchObject({ type: 'query', label: name, multi: true, includeAll: true, allValue: '.+', refresh: 2 });
    expect(byName.namespace?.current.value).toBe('rest-api');
    expect(byName.job?.current.value).toBe('rest-api');
    expect(byName.endpoint?.current.value).toBe('$__all');
  });

  it('uses only variables it declares', () => {
    const declared = new Set(variables.map((v) => v.name));
    const texts = [
      ...targets.map((t) => t.expr),
      ...variables.map((v) => `${v.query ?? ''}`),
      ...annotations.map((a) => a.expr),
      ...panels.map((p) => p.datasource.uid),
    ];
    const used = new Set(texts.flatMap(variablesUsed));
    expect(used.size).toBeGreaterThan(0);
    for (const name of used) expect({ name, declared: declared.has(name) }).toEqual({ name, declared: true });
    // The checker sees what Grafana sees:
    expect(variablesUsed('rate(x{job=~"$job"}[$__rate_interval]) ${datasource} ${foo:csv} "${1}xx"')).toEqual(['job', 'datasource', 'foo']);
  });

  it('gives every target an expression, a legend and a distinct refId within its panel', () => {
    for (const p of panels) {
      expect(p.targets.length).toBeGreaterThan(0);
      for (const t of p.targets)
        expect({ title: p.title, expr: t.expr.trim().length > 0, legend: t.legendFormat.length > 0 }).toEqual({
          title: p.title,
          expr: true,
          legend: true,
        });
      expect(new Set(p.targets.map((t) => t.refId)).size).toBe(p.targets.length);
    }
  });

  it('scopes every query to the chosen namespace and job, and rates with $__rate_interval, totals with $__range', () => {
    for (const t of targets) expect(t.expr).toContain('namespace=~"$namespace",job=~"$job"');
    for (const t of targets) {
      for (const m of t.expr.matchAll(/\b(rate|irate|increase|changes)\([^[]*\[([^\]]+)\]\)/g)) {
        expect({ expr: t.expr, window: m[2] }).toEqual({
          expr: t.expr,
          window: m[1] === 'rate' || m[1] === 'irate' ? '$__rate_interval' : '$__range',
        });
      }
    }
  });

  it("shows the guide's queries made correct across pods", () => {
    const exprs = targets.map((t) => t.expr);
    expect(exprs).toContainEqual(expect.stringMatching(/^sum\(increase\(http_requests_total\{[^}]*\}\[\$__range\]\)\)$/));
    expect(exprs).toContainEqual(
      expect.stringMatching(/^histogram_quantile\(0\.95, sum by \(le\) \(rate\(http_request_duration_seconds_bucket\{/),
    );
    expect(exprs).toContainEqual(
      expect.stringMatching(
        /^sum by \(endpoint\) \(rate\(http_request_duration_seconds_sum\{.*\/ sum by \(endpoint\) \(rate\(http_request_duration_seconds_count\{/,
      ),
    );
    for (const metric of [METRIC.requests4xx, METRIC.requests5xx, METRIC.requestsTotal]) {
      expect(exprs).toContainEqual(expect.stringMatching(new RegExp(`^sum by \\(endpoint\\) \\(rate\\(${metric}\\{`)));
    }
    // Never a quantile per series or a counter's raw value.
    for (const e of exprs) expect(e).not.toMatch(/histogram_quantile\([\d.]+, rate\(/);
  });

  it("shows the guide's four metric families, directly or through a recording rule", () => {
    const recorded = new Map<string, string>();
    for (const g of allRuleGroups(config))
      for (const r of g.rules) if ('record' in r) recorded.set(r.record, `${recorded.get(r.record) ?? ''} ${r.expr}`);
    const expand = (expr: string, depth = 0): string =>
      depth > 3
        ? expr
        : expr +
          [...recorded]
            .filter(([name]) => expr.includes(name))
            .map(([, e]) => expand(e, depth + 1))
            .join(' ');
    const shown = targets.map((t) => expand(t.expr)).join('\n');
    for (const metric of [METRIC.requestsTotal, METRIC.requestDuration, METRIC.requests4xx, METRIC.requests5xx])
      expect(shown).toContain(metric);
    // Recording rules the dashboard reads exist.
    for (const t of targets)
      for (const name of t.expr.match(/\b[a-z_]+:[a-z_0-9]+:[a-z_0-9]+\b/g) ?? []) expect(recorded.has(name)).toBe(true);
  });

  it("annotates the install's firing alerts", () => {
    expect(annotations).toEqual([
      expect.objectContaining({
        enable: true,
        expr: 'ALERTS{alertstate="firing",namespace=~"$namespace",job=~"$job"}',
        titleFormat: '{{alertname}}',
      }),
    ]);
  });
});

describe('where the dashboard goes', () => {
  it('ships as a ConfigMap labelled for the Grafana sidecar, holding the dashboard JSON', () => {
    const cm = find(manifests(), 'ConfigMap', 'rest-api-dashboard');
    expect(cm.metadata?.labels?.grafana_dashboard).toBe('1');
    expect(cm.metadata?.namespace).toBe('rest-api');
    expect(Object.keys(cm.data!)).toEqual(['rest-api.json']);
    expect(JSON.parse(cm.data!['rest-api.json']!)).toEqual(dashboard);
  });

  it('leaves the ConfigMap out when grafana.dashboard.enabled is false', () => {
    expect(manifests({ grafana: { dashboard: { enabled: false } } }).filter((o) => o.kind === 'ConfigMap')).toEqual([]);
  });

  it('is in the chart with its legends escaped for Helm and the namespace default from the release', () => {
    const template = dashboardTemplate();
    expect(template).toContain('"legendFormat": "{{ "{{" }}endpoint{{ "}}" }}"');
    expect(template).toContain('"value": "{{ .Release.Namespace }}"');
  });

  it('is written to dist/grafana/, with local provisioning whose data source and dashboard path match', async () => {
    const out = await tempDir('synth-grafana');
    synth(config, out);
    expect(readFileSync(join(out, 'grafana', 'rest-api.json'), 'utf8')).toBe(dashboardJson(config));
    const provisioning = join(out, LOCAL_GRAFANA_DIR, 'provisioning');
    // Grafana's provisioning files, as localGrafanaFiles writes them: only the fields read here.
    const ds = parse(readFileSync(join(provisioning, 'datasources', 'prometheus.yml'), 'utf8')) as { datasources: unknown[] };
    expect(ds.datasources).toEqual([
      expect.objectContaining({ type: 'prometheus', uid: 'prometheus', url: 'http://localhost:9090', jsonData: { timeInterval: '10s' } }),
    ]);
    const { providers } = parse(readFileSync(join(provisioning, 'dashboards', 'rest-api.yml'), 'utf8')) as {
      providers: { options: { path: string } }[];
    };
    const provider = providers[0]!;
    // Grafana runs in dist/local/grafana/ (tools/monitoring-local.ts), so the path resolves from there.
    expect(resolve(join(out, LOCAL_GRAFANA_DIR), provider.options.path)).toBe(dirname(join(out, 'grafana', 'rest-api.json')));
  });
});
