/**
 * End to end with the real components: the API (built server process), Prometheus and
 * Alertmanager, on the generated local config with only the intervals and alert windows
 * shortened through the deploy config. Prints the measured alert latencies.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALERT } from '../../k8s/alerts';
import { resolveConfig } from '../../k8s/config';
import { LOCAL_ALERTMANAGER_FILE, LOCAL_CONFIG_FILE, localFiles } from '../../k8s/local';
import { SLO_ALERT } from '../../k8s/burn-rates';
import { durationSeconds } from '../../k8s/units';
import { METRIC } from '../../src/contract';
import type { Managed } from '../../tools/lib/processes';
import {
  alertmanagerBinary,
  freePort,
  prometheusBinary,
  startAlertmanager,
  startApi,
  startPrometheus,
  waitFor,
} from '../../tools/lib/processes';
import { alertmanagerAlerts, PrometheusApi } from '../../tools/lib/prometheus-api';
import { runLoad } from '../../tools/load';
import { tempDir } from '../helpers/app';
import { FAST_SCRAPES, requireInCi } from '../helpers/manifests';

const HAVE = prometheusBinary() !== undefined && alertmanagerBinary() !== undefined;
requireInCi(
  'the end-to-end monitoring tests',
  HAVE,
  'install Prometheus and Alertmanager: apt-get install prometheus prometheus-alertmanager',
);
const describeE2e = HAVE ? describe : describe.skip;

jest.setTimeout(120_000);

/** Test-only timing: 1s scrapes and evaluations, short windows and `for`s. Same job and labels. */
const TIMING = {
  ...FAST_SCRAPES,
  alerts: {
    window: '10s',
    highErrorRate: { perSecond: 0.1, for: '5s', severity: 'critical' },
    highResponseTime: { quantile: 0.95, seconds: 1, minRequestsPerSecond: 0.1, for: '5s', severity: 'warning' },
    notReady: { for: '5s', severity: 'critical' },
    highErrorRatio: { ratio: 0.05, for: '5s', severity: 'critical' },
    targetDown: { for: '3s', severity: 'warning' },
    targetMissing: { for: '30s', severity: 'critical' },
  },
} as const;

describeE2e('monitoring the API with a real Prometheus and Alertmanager', () => {
  let dir: string;
  let api: Managed;
  let prometheus: Managed;
  let alertmanager: Managed;
  let prom: PrometheusApi;
  let apiPort: number;
  let promPort: number;
  let config: ReturnType<typeof resolveConfig>;
  const latencies: string[] = [];

  beforeAll(async () => {
    dir = await tempDir('e2e');
    [apiPort, promPort] = [await freePort(), await freePort()];
    const amPort = await freePort();
    config = resolveConfig({ ...TIMING, local: { target: `127.0.0.1:${apiPort}`, alertmanager: `127.0.0.1:${amPort}` } });
    mkdirSync(join(dir, 'config'));
    for (const [file, text] of Object.entries(localFiles(config))) writeFileSync(join(dir, 'config', file), text);

    api = await startApi(apiPort, { FAULT_INJECTION: 'true', DATA_DIR: join(dir, 'api-data'), LOG_LEVEL: 'warn' });
    alertmanager = await startAlertmanager({
      configFile: join(dir, 'config', LOCAL_ALERTMANAGER_FILE),
      dataDir: join(dir, 'am'),
      port: amPort,
    });
    prometheus = await startPrometheus({ configFile: join(dir, 'config', LOCAL_CONFIG_FILE), dataDir: join(dir, 'prom'), port: promPort });
    prom = new PrometheusApi(prometheus.url);
  });

  afterAll(async () => {
    await Promise.all([api, prometheus, alertmanager].filter(Boolean).map((p) => p.stop('SIGKILL')));
    if (latencies.length > 0) process.stdout.write(`\nalert latencies (fault start -> firing):\n  ${latencies.join('\n  ')}\n`);
  });

  const load = (seconds: number, errorShare = 0, slowShare = 0, slowMs = 1500) =>
    runLoad({ url: api.url, durationS: seconds, concurrency: 4, errorShare, errorStatus: 503, slowShare, slowMs });

  /** Resolves with the seconds from now until `alert` is in `state` (and has `labels`). */
  async function secondsUntil(alert: string, state: 'pending' | 'firing', timeoutMs = 60_000): Promise<number> {
    const t0 = Date.now();
    await waitFor(
      `${alert} ${state}`,
      async () => ((await prom.alerts()).some((a) => a.labels.alertname === alert && a.state === state) ? true : undefined),
      timeoutMs,
      250,
    );
    return (Date.now() - t0) / 1000;
  }

  const floor = (forDuration: string) =>
    durationSeconds(forDuration)! +
    durationSeconds(config.serviceMonitor.interval)! +
    durationSeconds(config.prometheus.evaluationInterval)!;

  it('scrapes the API: its target is UP under the job name of the cluster', async () => {
    const target = await waitFor('target UP', async () => (await prom.targets()).find((t) => t.health === 'up'));
    expect(target.labels.job).toBe('rest-api');
    expect(target.scrapeUrl).toBe(`${api.url}/metrics`);
    expect(target.lastError).toBe('');
  });

  it('loads every rule group without evaluation errors', async () => {
    const groups = await waitFor('rules evaluated', async () => {
      const g = await prom.ruleGroups();
      return g.length > 0 && g.every((x) => x.rules.every((r) => r.health === 'ok')) ? g : undefined;
    });
    const alerts = new Set(groups.flatMap((g) => g.rules.filter((r) => r.type === 'alerting').map((r) => r.name)));
    expect([...alerts].sort()).toEqual([...Object.values(ALERT), ...Object.values(SLO_ALERT)].sort());
    expect(groups.flatMap((g) => g.rules).filter((r) => r.type === 'recording').length).toBeGreaterThan(0);
    expect(groups.flatMap((g) => g.rules).filter((r) => r.lastError)).toEqual([]);
  });

  it('answers every query of the guide with the expected labels', async () => {
    await load(4, 0.2);
    // The target labels of a ServiceMonitor target (namespace, pod, endpoint = port name), as in a cluster.
    const target = ['namespace', 'job', 'instance', 'pod'];
    const queries: [string, string[]][] = [
      ['sum(http_requests_total)', []],
      ['rate(http_requests_total[5m])', ['method', 'endpoint', 'status', ...target]],
      ['rate(http_request_duration_seconds_sum[5m]) / rate(http_request_duration_seconds_count[5m])', ['method', 'endpoint', ...target]],
      ['rate(http_requests_4xx_total[5m])', ['method', 'endpoint', ...target]],
      ['rate(http_requests_5xx_total[5m])', ['method', 'endpoint', ...target]],
      ['sum by (endpoint) (rate(http_requests_total[5m]))', ['endpoint']],
      ['histogram_quantile(0.95, rate(http_request_duration_seconds_bucket[5m]))', ['method', 'endpoint', ...target]],
    ];
    // Two scrapes after the load, every rate has two samples: wait until each query answers.
    for (const [query, labels] of queries) {
      const result = await waitFor(query, async () => {
        const r = await prom.query(query);
        return r.length > 0 ? r : undefined;
      });
      for (const sample of result) expect(Object.keys(sample.metric).sort()).toEqual([...labels].sort());
    }
    // The operator's `endpoint` target label (the port) stays on `up`; the app's route is back in
    // `endpoint` on its own series, and nothing is left in `exported_endpoint`.
    expect((await prom.query('up{job="rest-api"}'))[0]!.metric.endpoint).toBe('metrics');
    expect(await prom.query('count({exported_endpoint!=""})')).toEqual([]);
    const endpoints = (await prom.query('sum by (endpoint) (rate(http_requests_total[5m]))')).map((s) => s.metric.endpoint);
    expect(endpoints).toEqual(expect.arrayContaining(['/api/items', '/api/items/:id']));
    const fivexx = await prom.query(`sum(${METRIC.requests5xx})`);
    expect(Number(fivexx[0]!.value[1])).toBeGreaterThan(0);
  });

  /** Waits until no alert named `alert` is pending or firing (earlier traffic has aged out of the window). */
  async function quiet(alert: string): Promise<void> {
    await waitFor(
      `${alert} inactive`,
      async () => ((await prom.alerts()).some((a) => a.labels.alertname === alert) ? undefined : true),
      60_000,
      250,
    );
  }

  it('fires HighErrorRate on injected 5xx, sends it to Alertmanager, and resolves when faults stop', async () => {
    await quiet(ALERT.highErrorRate);
    const loading = load(25, 0.5);
    const pendingAfter = await secondsUntil(ALERT.highErrorRate, 'pending');
    const firingAfter = await secondsUntil(ALERT.highErrorRate, 'firing');
    latencies.push(
      `HighErrorRate: pending after ${pendingAfter.toFixed(1)}s, firing after ${(pendingAfter + firingAfter).toFixed(1)}s (for ${TIMING.alerts.highErrorRate.for}; for + scrape + evaluation = ${floor(TIMING.alerts.highErrorRate.for)}s)`,
    );
    expect(pendingAfter + firingAfter).toBeGreaterThanOrEqual(durationSeconds(TIMING.alerts.highErrorRate.for)!);
    const received = await waitFor('Alertmanager has HighErrorRate', async () =>
      (await alertmanagerAlerts(alertmanager.url)).find((a) => a.labels.alertname === ALERT.highErrorRate && a.status.state === 'active'),
    );
    expect(received.labels).toMatchObject({ severity: 'critical', job: 'rest-api' });
    await loading;
    const t0 = Date.now();
    await quiet(ALERT.highErrorRate);
    const resolvedAfter = (Date.now() - t0) / 1000;
    latencies.push(`HighErrorRate: resolved ${resolvedAfter.toFixed(1)}s after the faults stopped (window ${TIMING.alerts.window})`);
  });

  it('fires HighResponseTime on slow requests', async () => {
    await quiet(ALERT.highResponseTime);
    const loading = load(25, 0, 0.3, 1500);
    const firingAfter = await secondsUntil(ALERT.highResponseTime, 'firing');
    latencies.push(
      `HighResponseTime: firing after ${firingAfter.toFixed(1)}s (for ${TIMING.alerts.highResponseTime.for}; for + scrape + evaluation = ${floor(TIMING.alerts.highResponseTime.for)}s, plus the 1.5s the first slow requests take)`,
    );
    const alert = (await prom.alerts()).find((a) => a.labels.alertname === ALERT.highResponseTime)!;
    expect(Number(alert.value)).toBeGreaterThan(1);
    await loading;
  });

  it('keeps the samples from before a hard kill of Prometheus', async () => {
    const before = Number((await prom.query('sum(http_requests_total)'))[0]!.value[1]);
    const at = new Date();
    expect(before).toBeGreaterThan(0);
    expect(await prometheus.stop('SIGKILL')).toBeNull();
    prometheus = await startPrometheus({ configFile: join(dir, 'config', LOCAL_CONFIG_FILE), dataDir: join(dir, 'prom'), port: promPort });
    const after = await prom.query('sum(http_requests_total)', at);
    expect(Number(after[0]!.value[1])).toBe(before);
  });

  it('fires the target-down alert when the API is killed', async () => {
    const killedAt = Date.now();
    await api.stop('SIGKILL');
    await secondsUntil(ALERT.targetDown, 'firing', 60_000);
    const firingAfter = (Date.now() - killedAt) / 1000;
    latencies.push(
      `RestApiTargetDown: firing ${firingAfter.toFixed(1)}s after the kill (for ${TIMING.alerts.targetDown.for}; for + scrape + evaluation = ${floor(TIMING.alerts.targetDown.for)}s)`,
    );
    const target = (await prom.targets())[0]!;
    expect(target.health).toBe('down');
    await waitFor('Alertmanager has RestApiTargetDown', async () =>
      (await alertmanagerAlerts(alertmanager.url)).find((a) => a.labels.alertname === ALERT.targetDown),
    );
  });
});
