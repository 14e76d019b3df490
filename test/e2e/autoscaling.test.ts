/**
 * The query of KEDA's Prometheus trigger, answered by a real Prometheus: two API processes (two
 * pods) under paced load at known rates, scraped with the project's recording rules (the local
 * rule files), and the ScaledObject's own query string taken from the synthesized object. The
 * replica count KEDA's formula derives from the answer is the one the README's table gives.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { parse, stringify } from 'yaml';
import { resolveConfig } from '../../k8s/config';
import { LOCAL_CONFIG_FILE, localFiles } from '../../k8s/local';
import { podRequestRateRecord } from '../../k8s/recording-rules';
import { appSelector } from '../../k8s/selectors';
import type { Managed } from '../../tools/lib/processes';
import { freePort, PROJECT_ROOT, prometheusBinary, startApi, startPrometheus, waitFor } from '../../tools/lib/processes';
import { PrometheusApi } from '../../tools/lib/prometheus-api';
import { tempDir } from '../helpers/app';
import { appManifests, FAST_SCRAPES, find, requireInCi } from '../helpers/manifests';

const HAVE = prometheusBinary() !== undefined;
requireInCi('the autoscaling query test', HAVE, 'install Prometheus: apt-get install prometheus');
const describeE2e = HAVE ? describe : describe.skip;

jest.setTimeout(120_000);

/** Requests per second sent to each of the two pods: 50 in total. */
const RATES = [30, 20] as const;
const TOTAL = RATES[0] + RATES[1];
/** How far a recorded rate may stray from the rate served: scrape moments against the window's edges. */
const TOLERANCE = 0.1;
/** Test-only timing: 1 s scrapes and evaluations, and a 10 s rate window, so the window fills in seconds. */
const VALUES = { ...FAST_SCRAPES, autoscaling: { enabled: true, keda: { enabled: true, window: '10s' } } };

/** The README's table of total request rate -> pods KEDA keeps at the default target. */
function readmePods(): Map<number, number> {
  const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
  const rows = [...readme.matchAll(/^ *\| ([\d,]+) req\/s +\| (\d+)/gm)];
  return new Map(rows.map((m) => [Number(m[1]!.replace(/,/g, '')), Number(m[2])]));
}

describeE2e("KEDA's request-rate query on a real Prometheus", () => {
  const apis: Managed[] = [];
  let prometheus: Managed | undefined;
  let prom: PrometheusApi;
  let load: autocannon.Instance[] = [];
  const trigger = find(appManifests(VALUES), 'ScaledObject').spec.triggers.find((t) => t.type === 'prometheus')!;
  const config = resolveConfig(VALUES);

  beforeAll(async () => {
    const dir = await tempDir('autoscaling');
    const ports = [await freePort(), await freePort()];
    const promPort = await freePort();
    for (const [i, port] of ports.entries()) {
      apis.push(await startApi(port, { DATA_DIR: join(dir, `api-${i}`), LOG_LEVEL: 'warn', MAX_REQUESTS_PER_SOCKET: '0' }));
    }
    // The generated config scrapes one target; the second pod is a second address of the same job.
    const files = localFiles(resolveConfig({ ...VALUES, local: { target: `127.0.0.1:${ports[0]}` } }));
    const promConfig = parse(files[LOCAL_CONFIG_FILE]!) as { scrape_configs: { static_configs: { targets: string[] }[] }[] };
    promConfig.scrape_configs[0]!.static_configs[0]!.targets.push(`127.0.0.1:${ports[1]}`);
    files[LOCAL_CONFIG_FILE] = stringify(promConfig);
    mkdirSync(join(dir, 'config'));
    for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, 'config', file), text);
    prometheus = await startPrometheus({ configFile: join(dir, 'config', LOCAL_CONFIG_FILE), dataDir: join(dir, 'prom'), port: promPort });
    prom = new PrometheusApi(prometheus.url);
  });

  afterAll(async () => {
    for (const l of load) l.stop();
    await Promise.all([...apis, prometheus].filter((p) => p !== undefined).map((p) => p.stop('SIGKILL')));
  });

  it('is the sum of the recorded per-pod rates, scoped to the namespace and job', () => {
    expect(trigger.metadata.query).toBe(`sum(${podRequestRateRecord('10s')}{${appSelector(config)}})`);
  });

  it('answers the total request rate, from each pod its own rate, and KEDA keeps the pods the README says', async () => {
    // Paced clients, each pod its own rate; they run until stopped.
    // The moments each pod's answers arrived: what was really served, when the machine cannot keep the pace.
    const answered: number[][] = apis.map(() => []);
    load = apis.map((api, i) => {
      const instance = autocannon(
        { url: `${api.url}/api/items?limit=1`, connections: 2, overallRate: RATES[i]!, duration: 600 },
        () => undefined,
      );
      instance.on('response', () => answered[i]!.push(Date.now() / 1000));
      return instance;
    });
    const record = podRequestRateRecord('10s');
    // The window is full once both pods' series have been scraped for a whole window (10 samples at 1 s).
    await waitFor(
      'a full rate window of load on both pods',
      async () => {
        const counts = await prom.query(
          `max by (pod) (count_over_time(http_requests_total{${appSelector(config)},method="GET",endpoint="/api/items"}[10s]))`,
        );
        return counts.length === 2 && counts.every((s) => Number(s.value[1]) >= 10) ? true : undefined;
      },
      60_000,
      500,
    );
    // ...and the rule has evaluated over it twice more (1 s evaluations).
    const evaluatedFrom = Date.now() / 1000 + 2;
    await waitFor(
      `${record} evaluated after the window filled`,
      async () => {
        const stamps = await prom.query(`timestamp(${record}{${appSelector(config)}})`);
        return stamps.length === 2 && stamps.every((s) => Number(s.value[1]) >= evaluatedFrom) ? true : undefined;
      },
      30_000,
      500,
    );
    const perPod = await prom.query(`${record}{${appSelector(config)}}`);
    const evaluatedAt = Math.min(...(await prom.query(`timestamp(${record}{${appSelector(config)}})`)).map((x) => Number(x.value[1])));
    const [total] = await prom.query(trigger.metadata.query!);
    for (const l of load) l.stop();

    const byPod = new Map(perPod.map((s) => [s.metric.pod, Number(s.value[1])]));
    const measured = Number(total!.value[1]);
    process.stdout.write(
      `\nKEDA query: sent ${RATES.join(' + ')} = ${TOTAL} req/s, recorded ${apis.map((api) => byPod.get(new URL(api.url).host)?.toFixed(1)).join(' + ')}, query answered ${measured.toFixed(2)} req/s\n`,
    );
    // Each pod's recorded rate against the answers it gave in the rule's window (10 s up to its evaluation).
    const served = answered.map((times) => times.filter((t) => t > evaluatedAt - 10 && t <= evaluatedAt).length / 10);
    process.stdout.write(`answered by the pods in that window: ${served.map((r) => r.toFixed(1)).join(' + ')} req/s\n`);
    for (const [i, api] of apis.entries()) {
      const pod = new URL(api.url).host;
      expect(byPod.get(pod)).toBeGreaterThan(served[i]! * (1 - TOLERANCE));
      expect(byPod.get(pod)).toBeLessThan(served[i]! * (1 + TOLERANCE));
    }
    expect(measured).toBeCloseTo(
      [...byPod.values()].reduce((a, b) => a + b),
      6,
    );
    // The pace held closely enough for the README's row (a loaded machine may fall a little short).
    expect(measured).toBeGreaterThan(TOTAL * (1 - 2 * TOLERANCE));
    expect(measured).toBeLessThan(TOTAL * (1 + TOLERANCE));

    // KEDA's AverageValue: the HPA keeps ceil(metric / threshold) pods, within min and max.
    const threshold = Number(trigger.metadata.threshold);
    expect(threshold).toBe(config.autoscaling.keda.requestsPerSecondPerPod);
    const a = config.autoscaling;
    const desired = Math.min(a.maxReplicas, Math.max(a.minReplicas, Math.ceil(measured / threshold)));
    expect(readmePods().get(TOTAL)).toBe(desired);
  });
});
