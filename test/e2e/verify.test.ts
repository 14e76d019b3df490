/**
 * `verify` as users run it (the built CLI): offline over manifests; against a real Prometheus
 * scraping the real API, up and down; and live through @kubernetes/client-node against a
 * stand-in API server (no Kubernetes API server can run here) whose service proxy reaches that
 * real Prometheus.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, parse as parseYaml, stringify } from 'yaml';
import type { K8sObject } from '../../k8s/checks';
import { resolveConfig } from '../../k8s/config';
import { LOCAL_CONFIG_FILE, localFiles } from '../../k8s/local';
import type { Managed } from '../../tools/lib/processes';
import { freePort, PROJECT_ROOT, prometheusBinary, startApi, startPrometheus, waitFor } from '../../tools/lib/processes';
import { PrometheusApi } from '../../tools/lib/prometheus-api';
import { tempDir } from '../helpers/app';
import { startKubeStandIn } from '../helpers/kube-stand-in';
import type { StandIn } from '../helpers/kube-stand-in';
import {
  clone,
  find,
  HAVE_KPS_FIXTURE,
  KPS_FIXTURE,
  KPS_VALUES_FILE,
  manifests,
  requireInCi,
  SCALE_OUT_VALUES_FILE,
} from '../helpers/manifests';
import { operatorPrometheusPodLabels } from '../../k8s/operator';

const KPS_VALUES = parseYaml(readFileSync(KPS_VALUES_FILE, 'utf8')) as Record<string, unknown>;
const SCALE_OUT = parseYaml(readFileSync(SCALE_OUT_VALUES_FILE, 'utf8')) as Record<string, unknown>;
const readFixture = (): K8sObject[] =>
  parseAllDocuments(readFileSync(KPS_FIXTURE, 'utf8'))
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null && typeof o.kind === 'string');

jest.setTimeout(60_000);

interface Result {
  code: number | null;
  out: string;
  json: { ok: boolean; items: { id: string; status: string; details: string[]; fix?: string }[] };
}

/** Runs the CLI asynchronously: the stand-in API server answers it from this process. */
function verify(...args: string[]): Promise<Result> {
  return verifyWith({}, ...args);
}

/** `verify` with `env` added (SYNTH_CONFIG: the deploy config it expects). */
function verifyWith(env: Record<string, string>, ...args: string[]): Promise<Result> {
  const child = spawn(process.execPath, [join(PROJECT_ROOT, 'build', 'tools', 'verify.js'), ...args, '--output', 'json'], {
    env: { PATH: process.env.PATH, HOME: '/nonexistent', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) =>
    child.once('close', (code) => {
      try {
        resolve({ code, out: stdout + stderr, json: JSON.parse(stdout) as Result['json'] });
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
    [
      'a ServiceMonitor the Prometheus does not select',
      (o) => delete find(o, 'ServiceMonitor').metadata!.labels!['app.kubernetes.io/component'],
      'prometheus-selects-servicemonitor',
      /add label app.kubernetes.io\/component: api/,
    ],
    [
      'a numeric ServiceMonitor port',
      // A number where the CRD wants a port name: Object.assign lets the test break the type.
      (o) => Object.assign(find(o, 'ServiceMonitor').spec.endpoints[0]!, { port: 9464 }),
      'servicemonitor-port',
      /name of a Service port/,
    ],
    [
      'a nil ruleSelector',
      (o) => delete find(o, 'Prometheus').spec.ruleSelector,
      'prometheus-selects-rule',
      /nil selector selects nothing/,
    ],
    [
      'a Prometheus without RBAC',
      (o) => o.splice(o.indexOf(find(o, 'RoleBinding', 'rest-api-prometheus-discovery')), 1),
      'prometheus-rbac',
      /endpoints/,
    ],
  ])('fails on %s, naming the fix, with exit code 1', async (_case, mutate, id, fix) => {
    const objects = clone(manifests());
    mutate(objects);
    const r = await verify('--manifests', await writeManifests(objects));
    expect(r.code).toBe(1);
    expect(failedIds(r)).toContain(id);
    expect(r.json.items.find((i) => i.id === id)!.fix).toMatch(fix);
  });

  it('checks the autoscalers offline: the scale-out manifests pass, a ScaledObject reading an unrecorded rate fails', async () => {
    const scaled = manifests(SCALE_OUT);
    const good = await verify('--manifests', await writeManifests(scaled));
    expect(failedIds(good)).toEqual([]);
    for (const id of [
      'autoscaler-target',
      'autoscaled-replicas',
      'autoscaler-cpu-requests',
      'autoscaler-pdb',
      'scaledobject-metric-recorded',
    ]) {
      expect({ id, status: good.json.items.find((i) => i.id === id)?.status }).toEqual({ id, status: 'pass' });
    }
    const broken = clone(scaled);
    const trigger = find(broken, 'ScaledObject').spec.triggers[0]!;
    trigger.metadata = { ...trigger.metadata, query: 'sum(rate(http_requests_total[1m]))' };
    const r = await verify('--manifests', await writeManifests(broken));
    expect(r.code).toBe(1);
    expect(failedIds(r)).toEqual(['scaledobject-metric-recorded']);
  });

  it('says which checks could not run when the manifests hold no Prometheus (kube-prometheus-stack mode), with exit code 0', async () => {
    const r = await verify('--manifests', await writeManifests(manifests(KPS_VALUES)));
    expect(failedIds(r)).toEqual([]);
    expect(r.code).toBe(0);
    expect(
      r.json.items
        .filter((i) => i.status === 'skip')
        .map((i) => i.id)
        .sort(),
    ).toEqual(['networkpolicy-metrics', 'prometheus-selects-rule', 'prometheus-selects-servicemonitor']);
  });

  (HAVE_KPS_FIXTURE ? it : it.skip)(
    "exits 0 with the README's recipe (kps's Prometheus alone added): its volume and ClusterRole are warnings, not the app team's to fix",
    async () => {
      const prometheusOnly = parseAllDocuments(readFileSync(KPS_FIXTURE, 'utf8'))
        .map((d) => d.toJS() as K8sObject | null)
        .filter((o): o is K8sObject => o?.kind === 'Prometheus');
      const r = await verify(
        '--manifests',
        await writeManifests(manifests(KPS_VALUES)),
        '--manifests',
        await writeManifests(prometheusOnly),
      );
      expect(failedIds(r)).toEqual([]);
      expect(r.code).toBe(0);
      expect(r.json.items.filter((i) => i.status === 'warn').map((i) => i.id)).toEqual(expect.arrayContaining(['prometheus-rbac']));
    },
  );

  (HAVE_KPS_FIXTURE ? it : it.skip)("passes every check with kube-prometheus-stack's manifests added (--manifests twice)", async () => {
    const r = await verify('--manifests', await writeManifests(manifests(KPS_VALUES)), '--manifests', KPS_FIXTURE);
    const mine = r.json.items.filter((i) =>
      ['prometheus-selects-servicemonitor', 'prometheus-selects-rule', 'networkpolicy-metrics'].includes(i.id),
    );
    expect(mine.map((i) => [i.id, i.status])).toEqual([
      ['prometheus-selects-servicemonitor', 'pass'],
      ['prometheus-selects-rule', 'pass'],
      ['networkpolicy-metrics', 'pass'],
    ]);
  });

  it('prints a readable checklist', async () => {
    const objects = clone(manifests());
    delete find(objects, 'PrometheusRule').metadata!.labels!['app.kubernetes.io/component'];
    const r = spawnSync(
      process.execPath,
      [join(PROJECT_ROOT, 'build', 'tools', 'verify.js'), '--manifests', await writeManifests(objects)],
      { encoding: 'utf8' },
    );
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('✓ a Prometheus selects the ServiceMonitor (labels and namespace)');
    expect(r.stdout).toContain('✗ a Prometheus selects the PrometheusRule (labels and namespace)');
    expect(r.stdout).toContain('fix: add label app.kubernetes.io/component: api to PrometheusRule rest-api');
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
  const config = () =>
    resolveConfig({
      serviceMonitor: { interval: '1s', scrapeTimeout: '1s' },
      prometheus: { evaluationInterval: '1s' },
      local: { target: `127.0.0.1:${apiPort}` },
    });

  /** The Prometheus Operator's CRDs, and the app Service's EndpointSlice with these ready addresses. */
  function operatorCrdsAndEndpoints(addresses: string[]): K8sObject[] {
    return [
      ...['servicemonitors', 'prometheusrules', 'prometheuses'].map((p) => ({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: `${p}.monitoring.coreos.com` },
      })),
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 'rest-api-abc', namespace: 'rest-api', labels: { 'kubernetes.io/service-name': 'rest-api' } },
        endpoints: addresses.map((address) => ({ addresses: [address], conditions: { ready: true } })),
      },
    ];
  }

  /** A CloudNativePG Cluster of three instances, `ready` of them ready, as the operator reports it. */
  function cnpgCluster(ready: number): K8sObject {
    return {
      apiVersion: 'postgresql.cnpg.io/v1',
      kind: 'Cluster',
      metadata: { name: 'rest-api-db', namespace: 'rest-api' },
      spec: { instances: 3 },
      status: {
        readyInstances: ready,
        currentPrimary: 'rest-api-db-1',
        phase: ready === 3 ? 'Cluster in healthy state' : 'Waiting for the instances to become active',
      },
    };
  }

  /** The synthesized objects as a running cluster would hold them (status filled in). */
  function cluster(mutate: (o: K8sObject[]) => void = () => undefined): K8sObject[] {
    const objects = clone(manifests());
    find(objects, 'Deployment').status = { replicas: 2, readyReplicas: 2, availableReplicas: 2 };
    objects.push(
      ...operatorCrdsAndEndpoints(['10.0.0.5', '10.0.0.6']),
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: 'prometheus-rest-api-0',
          namespace: 'rest-api',
          labels: { 'operator.prometheus.io/name': 'rest-api', 'app.kubernetes.io/name': 'prometheus' },
        },
        status: { conditions: [{ type: 'Ready', status: 'True' }] },
      },
      {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: 'data-prometheus-rest-api-0', namespace: 'rest-api' },
        status: { phase: 'Bound', capacity: { storage: '10Gi' } },
      },
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
    prometheus = await startPrometheus({
      configFile: join(dir, 'config', LOCAL_CONFIG_FILE),
      dataDir: join(dir, 'prom'),
      port: await freePort(),
    });
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
    for (const id of [
      'cluster',
      'crds',
      'deployment',
      'endpoints',
      'servicemonitor-exists',
      'prometheusrule-exists',
      'prometheus-selects-servicemonitor',
      'prometheus-pods',
      'prometheus-pvc',
      'target-up',
      'rules-loaded',
    ]) {
      expect({ id, status: r.json.items.find((i) => i.id === id)?.status }).toEqual({ id, status: 'pass' });
    }
    expect(standIn.requests).toContain(
      'GET /api/v1/namespaces/rest-api/services/prometheus-operated:web/proxy/api/v1/targets?state=active',
    );
    await standIn.close();
  });

  it.each<[string, (o: K8sObject[]) => void, string[]]>([
    [
      'a ServiceMonitor the live Prometheus does not select',
      (o) => delete find(o, 'ServiceMonitor').metadata!.labels!['app.kubernetes.io/component'],
      ['prometheus-selects-servicemonitor', 'target-up'],
    ],
    [
      'missing CRDs',
      (o) =>
        o.splice(
          o.findIndex((x) => x.kind === 'CustomResourceDefinition'),
          1,
        ),
      ['crds'],
    ],
    [
      'no ready endpoints',
      (o) => find(o, 'EndpointSlice').endpoints!.forEach((e) => (e.conditions = { ...e.conditions, ready: false })),
      ['endpoints'],
    ],
    ['an unbound Prometheus volume', (o) => (find(o, 'PersistentVolumeClaim').status!.phase = 'Pending'), ['prometheus-pvc']],
    [
      'a CloudNativePG Cluster the API does not read, unisolated and with an instance not ready',
      (o) => o.push(cnpgCluster(1)),
      ['networkpolicy-isolates-pods', 'database-secret-from-cluster', 'database-cluster'],
    ],
    [
      'a CloudNativePG Cluster the API does not read, all instances ready',
      (o) => o.push(cnpgCluster(3)),
      ['networkpolicy-isolates-pods', 'database-secret-from-cluster'],
    ],
  ])('fails live on %s', async (_case, mutate, ids) => {
    standIn = await startKubeStandIn(cluster(mutate), prometheus.url);
    const r = await verify('--kubeconfig', standIn.kubeconfig);
    expect(r.code).toBe(1);
    expect(failedIds(r)).toEqual(ids);
    await standIn.close();
  });

  describe('with KEDA scaling the API', () => {
    const KEDA = { autoscaling: { enabled: true, keda: { enabled: true } } };
    /** The cluster with the ScaledObject as KEDA reports it: Ready, or with `ready`'s condition. */
    function kedaCluster(ready: { status: string; message?: string } | undefined): K8sObject[] {
      return cluster((o) => {
        const keda = manifests(KEDA);
        o.splice(0, o.length, ...o.filter((x) => !['Deployment', 'PrometheusRule', 'NetworkPolicy'].includes(x.kind!)));
        o.push(...keda.filter((x) => ['Deployment', 'PrometheusRule', 'NetworkPolicy', 'ScaledObject'].includes(x.kind!)));
        // The API server fills in replicas; the autoscaler sets them.
        find(o, 'Deployment').spec!.replicas = 3;
        find(o, 'Deployment').status = { replicas: 3, readyReplicas: 3, availableReplicas: 3 };
        if (ready === undefined) o.splice(o.indexOf(find(o, 'ScaledObject')), 1);
        else find(o, 'ScaledObject').status = { conditions: [{ type: 'Ready', ...ready }] };
      });
    }
    let env: Record<string, string>;
    beforeAll(async () => {
      const dir = await tempDir('verify-keda');
      writeFileSync(join(dir, 'values.yaml'), stringify(KEDA));
      env = { SYNTH_CONFIG: join(dir, 'values.yaml') };
    });

    it.each<[string, { status: string; message?: string } | undefined, string[]]>([
      ['passes when KEDA reports the ScaledObject Ready', { status: 'True' }, []],
      ['fails when KEDA cannot run the query', { status: 'False', message: 'prometheus query failed' }, ['autoscaler']],
      ['fails when there is no ScaledObject (KEDA absent)', undefined, ['autoscaler']],
    ])('%s', async (_case, ready, failed) => {
      standIn = await startKubeStandIn(kedaCluster(ready), prometheus.url);
      const r = await verifyWith(env, '--kubeconfig', standIn.kubeconfig);
      expect(failedIds(r)).toEqual(failed);
      const item = r.json.items.find((i) => i.id === 'autoscaler')!;
      expect(item.status).toBe(failed.length === 0 ? 'pass' : 'fail');
      if (ready?.message) expect(item.details.join()).toContain(ready.message);
      // Live Deployments always carry replicas: that check is for manifests.
      if (ready !== undefined) expect(r.json.items.find((i) => i.id === 'autoscaled-replicas')?.status).toBe('skip');
      await standIn.close();
    });
  });

  /** A cluster running kube-prometheus-stack: its Prometheus in `monitoring`, the app without its own. */
  function kpsCluster(): K8sObject[] {
    const objects = clone(manifests(KPS_VALUES));
    find(objects, 'Deployment').status = { replicas: 2, readyReplicas: 2, availableReplicas: 2 };
    const kps = readFixture().filter((o) => ['Prometheus', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind!));
    const promName = find(kps, 'Prometheus').metadata!.name!;
    objects.push(
      ...kps,
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'monitoring', labels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
      ...operatorCrdsAndEndpoints(['10.0.0.5']),
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `prometheus-${promName}-0`, namespace: 'monitoring', labels: operatorPrometheusPodLabels(promName) },
        status: { conditions: [{ type: 'Ready', status: 'True' }] },
      },
      {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: `prometheus-${promName}-db-prometheus-${promName}-0`, namespace: 'monitoring' },
        status: { phase: 'Bound', capacity: { storage: '50Gi' } },
      },
    );
    return objects;
  }

  (HAVE_KPS_FIXTURE ? it : it.skip)(
    "finds kube-prometheus-stack's Prometheus in namespace monitoring and asks it through its service proxy",
    async () => {
      standIn = await startKubeStandIn(kpsCluster(), prometheus.url);
      const r = await verify('--kubeconfig', standIn.kubeconfig);
      expect(failedIds(r)).toEqual([]);
      for (const id of [
        'prometheus-selects-servicemonitor',
        'prometheus-selects-rule',
        'networkpolicy-metrics',
        'prometheus-pods',
        'target-up',
        'rules-loaded',
      ]) {
        expect({ id, status: r.json.items.find((i) => i.id === id)?.status }).toEqual({ id, status: 'pass' });
      }
      // kube-prometheus-stack's default Prometheus has no volume: worth knowing, not the app's to fix.
      const storage = r.json.items.find((i) => i.id === 'prometheus-storage')!;
      expect(storage.status).toBe('warn');
      expect(storage.details[0]).toContain('Prometheus kps-kube-prometheus-stack-prometheus has no persistent volume');
      expect(standIn.requests).toContain(
        'GET /api/v1/namespaces/monitoring/services/prometheus-operated:web/proxy/api/v1/targets?state=active',
      );
      expect(r.code).toBe(0);
      await standIn.close();
    },
  );

  (HAVE_KPS_FIXTURE ? it : it.skip)(
    'tells a user limited to the namespace (403 on cluster-wide lists) which checks could not run, not exit 2',
    async () => {
      standIn = await startKubeStandIn(kpsCluster(), prometheus.url, { onlyNamespaces: ['rest-api'] });
      const r = await verify('--kubeconfig', standIn.kubeconfig);
      expect(r.code).toBe(0);
      expect(failedIds(r)).toEqual([]);
      const skipped = r.json.items.filter((i) => i.status === 'skip');
      expect(skipped.map((i) => i.id)).toEqual(
        expect.arrayContaining(['crds', 'prometheus-selects-servicemonitor', 'networkpolicy-metrics', 'target-up']),
      );
      expect(skipped.find((i) => i.id === 'crds')!.details[0]).toMatch(/could not run: .*403.*lacks that permission/);
      // What the namespace allows still ran.
      for (const id of ['deployment', 'endpoints', 'servicemonitor-exists', 'servicemonitor-port']) {
        expect({ id, status: r.json.items.find((i) => i.id === id)?.status }).toEqual({ id, status: 'pass' });
      }
      await standIn.close();
    },
  );

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
    // The scrape under way at the kill may see a reset; the next ones find the port closed.
    await waitFor('target down, refused', async () =>
      (await prom.targets()).some((t) => t.health === 'down' && /connection refused/.test(t.lastError)) ? true : undefined,
    );
    const r = await verify('--manifests', await writeManifests(manifests()), '--prometheus-url', prometheus.url);
    expect(r.code).toBe(1);
    const up = r.json.items.find((i) => i.id === 'target-up')!;
    expect(up.status).toBe('fail');
    expect(up.details[0]).toMatch(/DOWN, last scrape .*error: .*connection refused/);
  });
});
