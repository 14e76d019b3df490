/**
 * A full outage pages: the API on a real PostgreSQL server of its own, scraped by a real
 * Prometheus with the project's rules; the server is stopped, every pod (here: the one) reports
 * not ready on its metrics port, and RestApiNotReady fires, though no request fails with a 5xx.
 * Prints the latencies from the stop to the gauge and to the alert.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALERT } from '../../k8s/alerts';
import { resolveConfig } from '../../k8s/config';
import { LOCAL_CONFIG_FILE, localFiles } from '../../k8s/local';
import { METRIC } from '../../src/contract';
import type { Managed } from '../../tools/lib/processes';
import { PgServer, postgresBinDir } from '../../tools/lib/pg-server';
import { freePort, prometheusBinary, startApi, startPrometheus, waitFor } from '../../tools/lib/processes';
import { PrometheusApi } from '../../tools/lib/prometheus-api';
import { tempDir } from '../helpers/app';
import { FAST_SCRAPES, requireInCi } from '../helpers/manifests';

const HAVE = postgresBinDir() !== undefined && prometheusBinary() !== undefined;
requireInCi('the database outage test', HAVE, 'apt-get install postgresql prometheus');

jest.setTimeout(120_000);

/** Test-only timing: 1s scrapes and evaluations, a 5s `for`. */
const TIMING = {
  ...FAST_SCRAPES,
  alerts: { window: '10s', notReady: { for: '5s', severity: 'critical' } },
} as const;

(HAVE ? describe : describe.skip)('a database outage', () => {
  let dir: string;
  let pg: PgServer | undefined;
  let api: Managed;
  let prometheus: Managed;
  let prom: PrometheusApi;

  const gauge = async (): Promise<number | undefined> => {
    const r = await prom.query(`${METRIC.ready}{job="rest-api"}`);
    return r.length === 0 ? undefined : Number(r[0]!.value[1]);
  };
  const alertState = async (): Promise<string | undefined> =>
    (await prom.alerts()).find((a) => a.labels.alertname === ALERT.notReady)?.state;

  beforeAll(async () => {
    dir = await tempDir('e2e-outage');
    // A server of the test's own: the shared test server must not be stopped under other suites.
    pg = new PgServer(await freePort());
    await pg.start();
    const [apiPort, metricsPort, promPort] = [await freePort(), await freePort(), await freePort()];
    // Prometheus scrapes the separate metrics port, as in the cluster.
    const config = resolveConfig({ ...TIMING, local: { target: `127.0.0.1:${metricsPort}`, alertmanager: '127.0.0.1:1' } });
    mkdirSync(join(dir, 'config'));
    for (const [file, text] of Object.entries(localFiles(config))) writeFileSync(join(dir, 'config', file), text);
    api = await startApi(apiPort, { DATABASE_URL: pg.url, METRICS_PORT: String(metricsPort), LOG_LEVEL: 'warn' });
    prometheus = await startPrometheus({ configFile: join(dir, 'config', LOCAL_CONFIG_FILE), dataDir: join(dir, 'prom'), port: promPort });
    prom = new PrometheusApi(prometheus.url);
  });

  afterAll(async () => {
    await Promise.all([api, prometheus].filter(Boolean).map((p) => p.stop('SIGKILL')));
    await pg?.destroy();
  });

  it('drops the readiness gauge to 0 and fires RestApiNotReady, then recovers', async () => {
    await waitFor('the gauge at 1 in Prometheus', async () => ((await gauge()) === 1 ? true : undefined));
    expect(await alertState()).toBeUndefined();

    const stoppedAt = Date.now();
    await pg!.stop();
    await waitFor('the gauge at 0', async () => ((await gauge()) === 0 ? true : undefined), 60_000, 250);
    const gaugeAfter = (Date.now() - stoppedAt) / 1000;
    await waitFor('RestApiNotReady firing', async () => ((await alertState()) === 'firing' ? true : undefined), 60_000, 250);
    const firingAfter = (Date.now() - stoppedAt) / 1000;
    // The metrics port kept answering: the target stayed up through the outage.
    expect(Number((await prom.query('up{job="rest-api"}'))[0]!.value[1])).toBe(1);
    const alert = (await prom.alerts()).find((a) => a.labels.alertname === ALERT.notReady)!;
    expect(alert.labels).toMatchObject({ namespace: 'rest-api', job: 'rest-api', severity: 'critical' });

    const resumedAt = Date.now();
    await pg!.start();
    await waitFor('the gauge back at 1', async () => ((await gauge()) === 1 ? true : undefined), 60_000, 250);
    const recoveredAfter = (Date.now() - resumedAt) / 1000;
    await waitFor('RestApiNotReady resolved', async () => ((await alertState()) === undefined ? true : undefined), 60_000, 250);
    const resolvedAfter = (Date.now() - resumedAt) / 1000;
    process.stdout.write(
      `\ndatabase outage (1s scrapes and evaluations, for ${TIMING.alerts.notReady.for}):\n` +
        `  rest_api_ready 0 in Prometheus ${gaugeAfter.toFixed(1)}s after the stop; RestApiNotReady firing after ${firingAfter.toFixed(1)}s\n` +
        `  rest_api_ready 1 again ${recoveredAfter.toFixed(1)}s after the restart; alert resolved after ${resolvedAfter.toFixed(1)}s\n`,
    );
    expect(firingAfter).toBeGreaterThanOrEqual(5);
  });
});
