/**
 * Every query of the generated dashboard against the real components: the API (built server)
 * under mixed traffic (2xx, 4xx, injected 5xx, slow requests), scraped by a real Prometheus with
 * the project's rules loaded (generated local config; only intervals and alert windows
 * shortened). Grafana's variables are substituted as Grafana would; each query must return data.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveConfig } from '../../k8s/config';
import { dashboardJson } from '../../k8s/dashboard';
import { LOCAL_CONFIG_FILE, localFiles } from '../../k8s/local';
import type { Managed } from '../../tools/lib/processes';
import { freePort, prometheusBinary, startApi, startPrometheus, waitFor } from '../../tools/lib/processes';
import { PrometheusApi } from '../../tools/lib/prometheus-api';
import { runLoad } from '../../tools/load';
import { tempDir } from '../helpers/app';
import { isPanel, parseDashboard } from '../helpers/dashboard';
import type { DashboardJson } from '../helpers/dashboard';
import { FAST_SCRAPES, requireInCi } from '../helpers/manifests';

const HAVE = prometheusBinary() !== undefined;
requireInCi('the end-to-end dashboard tests', HAVE, 'install Prometheus: apt-get install prometheus');
const describeE2e = HAVE ? describe : describe.skip;

jest.setTimeout(180_000);

/** Test-only timing, as in monitoring.test.ts: 1s scrapes and evaluations, short alert windows. */
const TIMING = {
  ...FAST_SCRAPES,
  alerts: { window: '10s', highErrorRatio: { ratio: 0.05, for: '2s', severity: 'critical' } },
} as const;

/** Grafana's `$__rate_interval` for a 1s scrape interval: four scrapes. */
const RATE_INTERVAL = '4s';

describeE2e('the dashboard against a real Prometheus scraping the API', () => {
  let api: Managed;
  let prometheus: Managed;
  let prom: PrometheusApi;
  let config: ReturnType<typeof resolveConfig>;
  let dashboard: DashboardJson;
  let startedAt: number;
  let loading: Promise<unknown> | undefined;

  beforeAll(async () => {
    const dir = await tempDir('e2e-dashboard');
    const [apiPort, promPort] = [await freePort(), await freePort()];
    config = resolveConfig({ ...TIMING, local: { target: `127.0.0.1:${apiPort}`, alertmanager: '127.0.0.1:1' } });
    mkdirSync(join(dir, 'config'));
    for (const [file, text] of Object.entries(localFiles(config))) writeFileSync(join(dir, 'config', file), text);
    dashboard = parseDashboard(dashboardJson(config));
    api = await startApi(apiPort, { FAULT_INJECTION: 'true', DATA_DIR: join(dir, 'api-data'), LOG_LEVEL: 'warn' });
    prometheus = await startPrometheus({ configFile: join(dir, 'config', LOCAL_CONFIG_FILE), dataDir: join(dir, 'prom'), port: promPort });
    prom = new PrometheusApi(prometheus.url);
    startedAt = Date.now();
    await waitFor('target UP', async () => ((await prom.targets()).some((t) => t.health === 'up') ? true : undefined));
    // Mixed traffic throughout the queries: the load's reads, writes and 404s, 20% injected 503s,
    // 10% slower than 1s; enough for HighErrorRatio to fire, so the alert annotation has data.
    loading = runLoad({ url: api.url, durationS: 60, concurrency: 4, errorShare: 0.2, errorStatus: 503, slowShare: 0.1, slowMs: 1200 });
    await waitFor('an alert firing', async () => ((await prom.alerts()).some((a) => a.state === 'firing') ? true : undefined), 60_000, 250);
  });

  afterAll(async () => {
    await loading;
    await Promise.all([api, prometheus].filter(Boolean).map((p) => p.stop('SIGKILL')));
  });

  /** Substitutes the variables as Grafana does with the defaults selected (the install; `endpoint` = All, `.+`). */
  function substitute(expr: string): string {
    const rangeS = Math.ceil((Date.now() - startedAt) / 1000) + 60;
    return expr
      .replaceAll('$__rate_interval', RATE_INTERVAL)
      .replaceAll('$__range', `${rangeS}s`)
      .replaceAll('$namespace', config.namespace)
      .replaceAll('$job', config.name)
      .replaceAll('$endpoint', '.+');
  }

  it('answers every panel query and the alert annotation with data', async () => {
    const queries: { where: string; expr: string }[] = [
      ...dashboard.panels.filter(isPanel).flatMap((p) => p.targets.map((t) => ({ where: `${p.title} / ${t.refId}`, expr: t.expr }))),
      ...dashboard.annotations.list.map((a) => ({ where: `annotation ${a.name}`, expr: a.expr })),
    ];
    const results: { where: string; expr: string; series: number }[] = [];
    for (const q of queries) {
      const expr = substitute(q.expr);
      expect(expr).not.toMatch(/\$(?!\{\d+\})/); // only label_replace's `${1}` is left
      const series = await waitFor(
        `data for ${q.where}: ${expr}`,
        async () => {
          const r = await prom.query(expr);
          return r.length > 0 ? r.length : undefined;
        },
        30_000,
        250,
      ).catch(() => 0);
      results.push({ where: q.where, expr, series });
    }
    const answered = results.filter((r) => r.series > 0);
    process.stdout.write(
      `\ndashboard queries answering on a real Prometheus: ${answered.length} of ${results.length}\n${results.map((r) => `  ${r.series > 0 ? '✓' : '✗'} ${r.where}: ${r.series} series`).join('\n')}\n`,
    );
    expect(results.filter((r) => r.series === 0)).toEqual([]);
  });

  it('answers the variable queries with the install as an option', async () => {
    const byName = Object.fromEntries(dashboard.templating.list.map((v) => [v.name, v]));
    const expected: Record<string, string[]> = {
      namespace: [config.namespace],
      job: [config.name],
      endpoint: ['/api/items', '/api/items/:id'],
    };
    for (const [name, values] of Object.entries(expected)) {
      // label_values(<selector>, <label>): what Grafana's Prometheus data source asks /api/v1/label/<label>/values.
      const m = /^label_values\((.+), (\w+)\)$/.exec(substitute(byName[name]!.query!))!;
      const url = new URL(`/api/v1/label/${m[2]}/values`, prometheus.url);
      url.searchParams.set('match[]', m[1]!);
      const body = (await (await fetch(url)).json()) as { data: string[] };
      expect({ name, missing: values.filter((v) => !body.data.includes(v)) }).toEqual({ name, missing: [] });
    }
  });

  it('shows errors and slow requests where they should be', async () => {
    const ratio = await prom.query(
      substitute('namespace_job:slo_sli_error:ratio_rate5m{slo="availability",namespace=~"$namespace",job=~"$job"}'),
    );
    expect(Number(ratio[0]!.value[1])).toBeGreaterThan(0.05);
    const slow = await prom.query(
      substitute('namespace_job:slo_sli_error:ratio_rate5m{slo="latency",namespace=~"$namespace",job=~"$job"}'),
    );
    expect(Number(slow[0]!.value[1])).toBeGreaterThan(0.01);
  });
});
