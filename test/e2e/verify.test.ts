/**
 * `verify` as users run it (the built CLI): offline over manifests; against a real Prometheus
 * scraping the real API, up and down; and live through @kubernetes/client-node against a
 * stand-in API server (no Kubernetes API server can run here) whose service proxy reaches that
 * real Prometheus.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { K8sObject } from '../../k8s/checks';
import { resolveConfig } from '../../k8s/config';
import { LOCAL_CONFIG_FILE, localFiles } from '../../k8s/local';
import type { Managed } from '../../tools/lib/processes';
import { freePort, PROJECT_ROOT, prometheusBinary, startApi, startPrometheus, waitFor } from '../../tools/lib/processes';
import { PrometheusApi } from '../../tools/lib/prometheus-api';
import { tempDir } from '../helpers/app';
import { startKubeStandIn } from '../helpers/kube-stand-in';
import type { StandIn } from '../helpers/kube-stand-in';
import { clone, find, manifests, requireInCi } from '../helpers/manifests';

jest.setTimeout(60_000);

interface Result {
  code: number | null;
  out: string;
  json: { ok: boolean; items: { id: string; status: string; details: string[]; fix?: string }[] };
}

/** Runs the CLI asynchronously: the stand-in API server answers it from this process. */
function verify(...args: string[]): Promise<Result> {
  const child = spawn(process.execPath, [join(PROJECT_ROOT, 'build', 'tools', 'verify.js'), ...args, '--output', 'json'], { env: { PATH: process.env.PATH, HOME: '/nonexistent' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) =>
    child.once('exit', (code) => {
      try {
        resolve({ code, out: stdout + stderr, json: JSON.parse(stdout) });
      } catch {
        reject(new Error(`verify printed no JSON (exit ${code}):\n${stdout}${stderr}`));
      }
    }),
  );
}

const failedIds = (r: Result) => r.json.items.filter((i) => i.status === 'fail').map((i) => i.id);

async function writeManifests(objects: K8sObject[]): Promise<string> {
  const dir = await tempDir('verify-manifests');
  writeFileSync(join(dir, 'all.yaml'), objects.map((o) => stringify(o)).join('---\n'));
  return dir;
}

describe('verify --manifests (offline)', () => {
  it('passes the project manifests with exit code 0', async () => {
    const r = await verify('--manifests', await writeManifests(manifests()));
    expect(r.code).toBe(0);
    expect(r.json.ok).toBe(true);
    expect(r.json.items.length).toBeGreaterThanOrEqual(15);
  });

  it.each<[string, (o: K8sObject[]) => void, string, RegExp]>([
    ['a ServiceMonitor the Prometheus does not select', (o) => delete find(o, 'ServiceMonitor').metadata.labels.prometheus, 'prometheus-selects-servicemonitor', /add label prometheus: rest-api/],
    ['a numeric ServiceMonitor port', (o) => (find(o, 'ServiceMonitor').spec.endpoints[0].port = 9464), 'servicemonitor-port', /name of a Service port/],
    ['a nil ruleSelector', (o) => delete find(o, 'Prometheus').spec.ruleSelector, 'prometheus-selects-rule', /nil selector selects nothing/],
    ['a Prometheus without RBAC', (o) => o.splice(o.indexOf(find(o, 'RoleBinding')), 1), 'prometheus-rbac', /endpoints/],
  ])('fails on %s, naming the fix, with exit code 1', async (_case, mutate, id, fix) => {
    const objects = clone(manifests());
    mutate(objects);
    const r = await verify('--manifests', await writeManifests(objects));
    expect(r.code).toBe(1);
    expect(failedIds(r)).toContain(id);
    expect(r.json.items.find((i) => i.id === id)!.fix).toMatch(fix);
  });

  it('prints a readable checklist', async () => {
    const objects = clone(manifests());
    delete find(objects, 'PrometheusRule').metadata.labels.prometheus;
    const r = spawnSync(process.execPath, [join(PROJECT_ROOT, 'build', 'tools', 'verify.js'), '--manifests', await writeManifests(objects)], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('✓ a Prometheus selects the ServiceMonitor (labels and namespace)');
    expect(r.stdout).toContain('✗ a Prometheus selects the PrometheusRule (labels and namespace)');
    expect(r.stdout).toContain('fix: add label prometheus: rest-api to PrometheusRule rest-api');
    expect(r.stdout).toMatch(/1 of \d+ checks failed/);
  });
});

const HAVE_PROMETHEUS = prometheusBinary() !== undefined;
requireInCi('the verify tests against a real Prometheus', HAVE_PROMETHEUS, 'apt-get install prometheus');

(HAVE_PROMETHEUS ? describe : describe.skip)('verify against a real Prometheus scraping the real API', () => {
  let api: Managed;
  let prometheus: Managed;
  let standIn: StandIn;
  let apiPort: number;
  const config = () => resolveConfig({ monitoring: { scrapeInterval: '1s', scrapeTimeout: '1s', evaluationInterval: '1s', localTarget: `127.0.0.1:${apiPort}` } });

  /** The synthesized objects as a running cluster would hold them (status filled in). */
  function cluster(mutate: (o: K8sObject[]) => void = () => undefined): K8sObject[] {
    const objects = clone(manifests());
    find(objects, 'Deployment').status = { replicas: 2, readyReplicas: 2, availableReplicas: 2 };
    objects.push(
      ...['servicemonitors', 'prometheusrules', 'prometheuses'].map((p) => ({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: `${p}.monitoring.coreos.com` } })),
      { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'rest-api-abc', namespace: 'rest-api', labels: { 'kubernetes.io/service-name': 'rest-api' } }, endpoints: [{ addresses: ['10.0.0.5'], conditions: { ready: true } }, { addresses: ['10.0.0.6'], conditions: { ready: true } }] } as K8sObject,
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'prometheus-rest-api-0', namespace: 'rest-api', labels: { 'operator.prometheus.io/name': 'rest-api', 'app.kubernetes.io/name': 'prometheus' } }, status: { conditions: [{ type: 'Ready', status: 'True' }] } },
      { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data-prometheus-rest-api-0', namespace: 'rest-api' }, status: { phase: 'Bound', capacity: { storage: '10Gi' } } },
    );
    mutate(objects);
    return objects;
  }

  beforeAll(async () => {
    const dir = await tempDir('verify-e2e');
    apiPort = await freePort();
    api = await startApi(apiPort, { DATA_DIR: join(dir, 'api'), LOG_LEVEL: 'warn' });
    mkdirSync(join(dir, 'config'));
    for (const [file, text] of Object.entries(localFiles(config()))) writeFileSync(join(dir, 'config', file), text);
    prometheus = await startPrometheus({ configFile: join(dir, 'config', LOCAL_CONFIG_FILE), dataDir: join(dir, 'prom'), port: await freePort() });
    const prom = new PrometheusApi(prometheus.url);
    await waitFor('target UP and rules loaded', async () =>
      (await prom.targets()).some((t) => t.health === 'up') && (await prom.ruleGroups()).length > 0 ? true : undefined,
    );
  });

  afterAll(async () => {
    await standIn?.close();
    await Promise.all([api, prometheus].filter(Boolean).map((p) => p.stop('SIGKILL')));
  });

  it('reports the target UP and the rules loaded (--manifests with --prometheus-url)', async () => {
    const r = await verify('--manifests', await writeManifests(manifests()), '--prometheus-url', prometheus.url);
    expect(r.code).toBe(0);
    const up = r.json.items.find((i) => i.id === 'target-up')!;
    expect(up.status).toBe('pass');
    expect(up.details[0]).toMatch(new RegExp(`http://127.0.0.1:${apiPort}/metrics: UP, last scrape \\d+\\.\\ds ago`));
    expect(r.json.items.find((i) => i.id === 'rules-loaded')!.status).toBe('pass');
  });

  it('passes every live check through client-node, asking Prometheus through the service proxy', async () => {
    standIn = await startKubeStandIn(cluster(), prometheus.url);
    const r = await verify('--kubeconfig', standIn.kubeconfig, '--context', 'stand-in');
    expect(failedIds(r)).toEqual([]);
    expect(r.code).toBe(0);
    for (const id of ['cluster', 'crds', 'deployment', 'endpoints', 'servicemonitor-exists', 'prometheusrule-exists', 'prometheus-selects-servicemonitor', 'prometheus-pods', 'prometheus-pvc', 'target-up', 'rules-loaded']) {
      expect({ id, status: r.json.items.find((i) => i.id === id)?.status }).toEqual({ id, status: 'pass' });
    }
    expect(standIn.requests).toContain('GET /api/v1/namespaces/rest-api/services/prometheus-operated:web/proxy/api/v1/targets?state=active');
    await standIn.close();
  });

  it.each<[string, (o: K8sObject[]) => void, string[]]>([
    ['a ServiceMonitor the live Prometheus does not select', (o) => delete find(o, 'ServiceMonitor').metadata.labels.prometheus, ['prometheus-selects-servicemonitor', 'target-up']],
    ['missing CRDs', (o) => o.splice(o.findIndex((x) => x.kind === 'CustomResourceDefinition'), 1), ['crds']],
    ['no ready endpoints', (o) => (o.find((x) => x.kind === 'EndpointSlice') as any).endpoints.forEach((e: any) => (e.conditions.ready = false)), ['endpoints']],
    ['an unbound Prometheus volume', (o) => (find(o, 'PersistentVolumeClaim').status.phase = 'Pending'), ['prometheus-pvc']],
  ])('fails live on %s', async (_case, mutate, ids) => {
    standIn = await startKubeStandIn(cluster(mutate), prometheus.url);
    const r = await verify('--kubeconfig', standIn.kubeconfig);
    expect(r.code).toBe(1);
    expect(failedIds(r)).toEqual(ids);
    await standIn.close();
  });

  it('fails when the kubeconfig context does not exist', async () => {
    standIn = await startKubeStandIn(cluster(), prometheus.url);
    const r = await verify('--kubeconfig', standIn.kubeconfig, '--context', 'production');
    expect(failedIds(r)).toEqual(['cluster']);
    expect(r.json.items[0]!.details[0]).toContain('no context "production"');
    await standIn.close();
  });

  it('reports a target that is down, with the scrape error', async () => {
    await api.stop('SIGKILL');
    const prom = new PrometheusApi(prometheus.url);
    await waitFor('target down', async () => ((await prom.targets()).some((t) => t.health === 'down') ? true : undefined));
    const r = await verify('--manifests', await writeManifests(manifests()), '--prometheus-url', prometheus.url);
    expect(r.code).toBe(1);
    const up = r.json.items.find((i) => i.id === 'target-up')!;
    expect(up.status).toBe('fail');
    expect(up.details[0]).toMatch(/DOWN, last scrape .*error: .*connection refused/);
  });
});
