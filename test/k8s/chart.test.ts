import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ruleGroups, ALERT } from '../../k8s/alerts';
import { DeployConfigError, loadDeployConfig, resolveConfig } from '../../k8s/config';
import { PORT_NAME } from '../../src/contract';
import { synth } from '../../k8s/main';
import type { K8sObject, KindMap } from '../../k8s/objects';
import { METRIC } from '../../src/contract';
import { PROJECT_ROOT } from '../../tools/lib/processes';
import { tempDir } from '../helpers/app';
import { appManifests, find, manifests } from '../helpers/manifests';

// Each object as its kind's shape (KindMap), where its spec is typed.
const objects = manifests();
const deployment: KindMap['Deployment'] = find(objects, 'Deployment');
const pod = deployment.spec!.template.spec!;
const api = pod.containers[0]!;
const service: KindMap['Service'] = find(objects, 'Service', 'rest-api');
const serviceMonitor: KindMap['ServiceMonitor'] = find(objects, 'ServiceMonitor');
const rule: KindMap['PrometheusRule'] = find(objects, 'PrometheusRule');
const prometheus: KindMap['Prometheus'] = find(objects, 'Prometheus');

describe('the API workload', () => {
  it('runs at least 2 replicas with a rollout that never drops below the desired count', () => {
    expect(deployment.spec!.replicas).toBe(2);
    expect(deployment.spec!.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
  });

  it('probes readiness on /readyz and liveness on /healthz', () => {
    expect(api.readinessProbe!.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(api.livenessProbe!.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(api.ports).toContainEqual({ name: 'http', containerPort: 8080 });
  });

  it('gives the app time to drain: preStop delay, then its own shutdown timeout, within the grace period', () => {
    const preStop = Number(api.lifecycle!.preStop!.exec!.command![1]);
    const shutdownMs = Number(api.env!.find((e) => e.name === 'SHUTDOWN_TIMEOUT_MS')!.value);
    expect(preStop).toBe(5);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(preStop + shutdownMs / 1000);
  });

  it('sets resources and spreads replicas across nodes', () => {
    expect(api.resources).toEqual({ requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } });
    expect(pod.topologySpreadConstraints!.map((t) => t.topologyKey)).toContain('kubernetes.io/hostname');
  });

  it('runs restricted: non-root UID, no escalation, no capabilities, RuntimeDefault seccomp, read-only root', () => {
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: expect.any(Number) as unknown,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.securityContext!.runAsUser).toBeGreaterThan(0);
    expect(api.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    // Writable: only its scratch and data directories; the keys Secret is mounted read-only.
    expect(
      api
        .volumeMounts!.filter((m) => m.readOnly !== true)
        .map((m) => m.mountPath)
        .sort(),
    ).toEqual(['/tmp', '/var/lib/rest-api']);
    expect(api.volumeMounts!.filter((m) => m.readOnly === true).map((m) => m.mountPath)).toEqual(['/etc/rest-api/api-keys']);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(find(objects, 'ServiceAccount', 'rest-api').automountServiceAccountToken).toBe(false);
  });

  it('keeps the selector a stable subset of the labels, without the version', () => {
    const selector = deployment.spec!.selector.matchLabels!;
    const labels = deployment.spec!.template.metadata!.labels!;
    expect(Object.keys(selector).sort()).toEqual(['app.kubernetes.io/component', 'app.kubernetes.io/instance', 'app.kubernetes.io/name']);
    for (const [k, v] of Object.entries(selector)) expect(labels[k]).toBe(v);
    expect(labels['app.kubernetes.io/version']).toBe('0.1.0');
    expect(service.spec!.selector).toEqual(selector);
  });

  it('exposes named ports on a ClusterIP Service, metrics on its own port', () => {
    expect(service.spec!.type).toBe('ClusterIP');
    expect(service.spec!.ports!.map((p) => p.name)).toEqual([PORT_NAME.http, PORT_NAME.metrics]);
    expect(api.env).toEqual(expect.arrayContaining([{ name: 'METRICS_PORT', value: '9464' }]));
  });

  it('reads DATABASE_URL from a Secret', () => {
    expect(api.env!.find((e) => e.name === 'DATABASE_URL')!.valueFrom!.secretKeyRef).toEqual({
      name: 'rest-api-database',
      key: 'DATABASE_URL',
    });
  });

  it('has a PodDisruptionBudget and a NetworkPolicy for its pods', () => {
    expect(find(objects, 'PodDisruptionBudget').spec).toEqual({ maxUnavailable: 1, selector: deployment.spec!.selector });
    const np: KindMap['NetworkPolicy'] = find(objects, 'NetworkPolicy');
    expect(np.spec!.podSelector).toEqual(deployment.spec!.selector);
    expect(np.spec!.ingress![1]).toEqual({
      from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus', 'operator.prometheus.io/name': 'rest-api' } } }],
      ports: [{ port: 'metrics', protocol: 'TCP' }],
    });
  });
});

describe('the database', () => {
  it('deploys a development PostgreSQL by default', () => {
    const sts: KindMap['StatefulSet'] = find(objects, 'StatefulSet');
    expect(sts.spec!.volumeClaimTemplates![0]!.spec!.resources!.requests!.storage).toBe('1Gi');
    // No Secret in the manifests, no password anywhere: the init container makes it in the cluster.
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    expect(JSON.stringify(objects)).not.toMatch(/rest-api-dev|POSTGRES_PASSWORD":"[^$]/);
    const init = sts.spec!.template.spec!.initContainers![0]!;
    const spec = JSON.parse(init.env!.find((e) => e.name === 'SECRET_SPEC')!.value!) as Record<string, unknown>;
    expect(spec).toEqual({
      DATABASE_URL: { template: 'postgres://$(POSTGRES_USER):$(POSTGRES_PASSWORD)@rest-api-postgres:5432/$(POSTGRES_DB)' },
      POSTGRES_DB: { value: 'rest_api' },
      POSTGRES_PASSWORD: { random: 32 },
      POSTGRES_USER: { value: 'rest_api' },
    });
    // Only the init container holds a token, through its projected volume.
    expect(sts.spec!.template.spec!.automountServiceAccountToken).toBe(false);
    expect(find(objects, 'Role', 'rest-api-postgres-secret').rules).toContainEqual({
      apiGroups: [''],
      resources: ['secrets'],
      resourceNames: ['rest-api-database'],
      verbs: ['get', 'patch'],
    });
  });

  it('reads database.existingSecret and renders no database nor database Secret', () => {
    const prod = manifests({ database: { existingSecret: 'my-db', existingSecretKey: 'url' } });
    expect(prod.find((o) => o.kind === 'StatefulSet')).toBeUndefined();
    expect(prod.find((o) => o.kind === 'Secret')).toBeUndefined();
    const prodDeployment: KindMap['Deployment'] = find(prod, 'Deployment');
    const env = prodDeployment.spec!.template.spec!.containers[0]!.env!;
    expect(env.find((e) => e.name === 'DATABASE_URL')!.valueFrom!.secretKeyRef).toEqual({ name: 'my-db', key: 'url' });
  });
});

describe('the ServiceMonitor', () => {
  it('scrapes the named metrics port every 10s with a timeout within the interval', () => {
    expect(serviceMonitor.spec.endpoints).toEqual([
      {
        port: 'metrics',
        path: '/metrics',
        scheme: 'http',
        interval: '10s',
        scrapeTimeout: '5s',
        metricRelabelings: expect.any(Array) as unknown,
      },
    ]);
    expect(serviceMonitor.spec.selector.matchLabels).toEqual(service.spec!.selector);
    expect(serviceMonitor.spec.sampleLimit).toBe(5000);
  });

  it('carries the labels the Prometheus selects', () => {
    expect(serviceMonitor.metadata?.labels).toMatchObject(prometheus.spec.serviceMonitorSelector!.matchLabels!);
    expect(rule.metadata?.labels).toMatchObject(prometheus.spec.ruleSelector!.matchLabels!);
  });

  it('adds serviceMonitor.additionalLabels and prometheusRule.additionalLabels', () => {
    const kps = manifests({
      serviceMonitor: { additionalLabels: { release: 'kps' } },
      prometheusRule: { additionalLabels: { release: 'kps', team: 'shop' } },
    });
    expect(find(kps, 'ServiceMonitor').metadata?.labels).toMatchObject({ release: 'kps' });
    expect(find(kps, 'PrometheusRule').metadata?.labels).toMatchObject({ release: 'kps', team: 'shop' });
  });

  it("puts the route back into `endpoint` after the operator's own `endpoint` target label renamed it", () => {
    expect(serviceMonitor.spec.endpoints[0]!.metricRelabelings).toEqual([
      { sourceLabels: ['exported_endpoint'], regex: '(.+)', targetLabel: 'endpoint', replacement: '$1', action: 'replace' },
      { regex: 'exported_endpoint', action: 'labeldrop' },
    ]);
  });

  it('renders no ServiceMonitor or PrometheusRule when disabled', () => {
    const none = manifests({
      serviceMonitor: { enabled: false },
      prometheusRule: { enabled: false },
      prometheus: { enabled: false },
      alertmanager: { enabled: false },
    });
    expect(none.filter((o) => ['ServiceMonitor', 'PrometheusRule'].includes(o.kind!))).toEqual([]);
  });
});

describe('the PrometheusRule', () => {
  const rules = rule.spec.groups!.flatMap((g) => g.rules!).filter((r) => r.alert !== undefined);
  const byName = (name: string) => rules.find((r) => r.alert === name)!;

  it('has the guide alerts with the guide thresholds and durations', () => {
    expect(byName('HighErrorRate')).toMatchObject({ for: '5m', labels: { severity: 'critical' } });
    expect(byName('HighErrorRate').expr).toContain(`rate(${METRIC.requests5xx}{namespace="rest-api",job="rest-api"}[5m])) > 0.1`);
    expect(byName('HighResponseTime')).toMatchObject({ for: '5m', labels: { severity: 'warning' } });
    expect(byName('HighResponseTime').expr).toMatch(
      /^histogram_quantile\(0\.95, sum by \([^)]*\ble\b[^)]*\) \(rate\(http_request_duration_seconds_bucket\{namespace="rest-api",job="rest-api"\}\[5m\]\)\)\) > 1 and /,
    );
  });

  it('scopes every expression to the install: its namespace and job', () => {
    const other = resolveConfig({ name: 'shop', namespace: 'shop-prod' });
    for (const r of ruleGroups(other).flatMap((g) => g.rules)) {
      const selectors = r.expr.match(/\{[^}]*\}/g) ?? [];
      expect(selectors.length).toBeGreaterThan(0);
      for (const sel of selectors) expect(sel).toContain('namespace="shop-prod",job="shop"');
    }
  });

  it('links every alert to its runbook with an absolute URL', () => {
    for (const r of rules) expect(r.annotations!.runbook_url).toMatch(new RegExp(`^https?://[^/]+/.*#${r.alert!.toLowerCase()}$`));
    expect(() => resolveConfig({ alerts: { runbookBaseUrl: 'docs/runbooks.md' } })).toThrow(
      'alerts.runbookBaseUrl = "docs/runbooks.md": must be an absolute http(s) URL',
    );
  });

  it('pages when no pod of the app is ready, from the readiness gauge', () => {
    expect(byName(ALERT.notReady)).toMatchObject({ for: '3m', labels: { severity: 'critical' } });
    expect(byName(ALERT.notReady).expr).toBe(`max by (namespace, job) (${METRIC.ready}{namespace="rest-api",job="rest-api"}) < 1`);
  });

  it('tells on-call when the target is down or missing', () => {
    expect(byName(ALERT.targetDown).expr).toBe('up{namespace="rest-api",job="rest-api"} == 0');
    expect(byName(ALERT.targetMissing).expr).toBe('absent(up{namespace="rest-api",job="rest-api"})');
    expect(byName(ALERT.targetDown).annotations!.description).toContain('{{ $labels.namespace }}/{{ $labels.pod }}');
  });

  it('gives every alert the same shape', () => {
    for (const r of rules) {
      expect(Object.keys(r).sort()).toEqual(['alert', 'annotations', 'expr', 'for', 'labels']);
      expect(Object.keys(r.annotations!).sort()).toEqual(['description', 'runbook_url', 'summary']);
      expect(['critical', 'warning', 'info']).toContain(r.labels!.severity);
    }
  });

  it('takes thresholds and windows from the config', () => {
    const custom = ruleGroups(
      resolveConfig({ alerts: { window: '2m', highErrorRate: { perSecond: 0.5, for: '1m', severity: 'warning' } } }),
    );
    const r = custom.flatMap((g) => g.rules).find((x) => x.alert === 'HighErrorRate')!;
    expect(r.expr).toContain('[2m])) > 0.5');
    expect(r).toMatchObject({ for: '1m', labels: { severity: 'warning' } });
  });
});

describe('the Prometheus', () => {
  it('keeps 15 days on a 10Gi volume with a size limit safely below it', () => {
    expect(prometheus.spec).toMatchObject({ retention: '15d', retentionSize: '8GiB' });
    expect(prometheus.spec.storage!.volumeClaimTemplate!.spec).toEqual({
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: '10Gi' } },
    });
  });

  it('sets every selector, with explicit namespace selectors', () => {
    for (const key of ['serviceMonitorSelector', 'ruleSelector', 'serviceMonitorNamespaceSelector', 'ruleNamespaceSelector'] as const) {
      expect(prometheus.spec[key]).toEqual({ matchLabels: expect.any(Object) as unknown });
    }
  });

  it('runs non-root with an fsGroup so the volume is writable', () => {
    expect(prometheus.spec.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 2000,
      fsGroup: 2000,
      seccompProfile: { type: 'RuntimeDefault' },
    });
  });

  it('has its own ServiceAccount with namespaced least-privilege RBAC, nothing cluster-scoped', () => {
    expect(prometheus.spec.serviceAccountName).toBe('rest-api-prometheus');
    expect(find(objects, 'Role', 'rest-api-prometheus-discovery').rules).toEqual([
      { apiGroups: [''], resources: ['services', 'endpoints', 'pods'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['configmaps'], verbs: ['get'] },
    ]);
    expect(find(objects, 'RoleBinding', 'rest-api-prometheus-discovery')).toMatchObject({
      metadata: { namespace: 'rest-api' },
      roleRef: { kind: 'Role', name: 'rest-api-prometheus-discovery' },
    });
    expect(objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding')).toEqual([]);
  });

  it('sends its alerts to an Alertmanager of its own, unless disabled', () => {
    expect(prometheus.spec.alerting).toEqual({
      alertmanagers: [{ namespace: 'rest-api', name: 'rest-api-alertmanager', port: 'web', apiVersion: 'v2' }],
    });
    const alertmanager: KindMap['Alertmanager'] = find(objects, 'Alertmanager');
    expect(alertmanager.spec.securityContext).toMatchObject({ runAsNonRoot: true, fsGroup: 2000 });
    const without = manifests({ alertmanager: { enabled: false } });
    expect(without.find((o) => o.kind === 'Alertmanager')).toBeUndefined();
    const alone: KindMap['Prometheus'] = find(without, 'Prometheus');
    expect(alone.spec.alerting).toBeUndefined();
  });

  it("gives the Alertmanager the AlertmanagerConfigs of the app's namespace and a volume for silences", () => {
    const am = find(objects, 'Alertmanager');
    expect(am.spec).toMatchObject({
      alertmanagerConfigSelector: { matchLabels: { 'app.kubernetes.io/instance': 'rest-api' } },
      alertmanagerConfigNamespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'rest-api' } },
      storage: { volumeClaimTemplate: { spec: { resources: { requests: { storage: '1Gi' } } } } },
    });
  });

  it('follows config overrides: volume, storage class, retention; retentionSize stays as set when the volume grows', () => {
    const custom: KindMap['Prometheus'] = find(
      manifests({ prometheus: { storage: { size: '50Gi', storageClass: 'fast' }, retention: '30d' } }),
      'Prometheus',
    );
    // The operator does not grow a bound volume: a larger storage.size must not raise retentionSize by itself.
    expect(custom.spec).toMatchObject({ retention: '30d', retentionSize: '8GiB' });
    expect(() => resolveConfig({ prometheus: { storage: { size: '5Gi' } } })).toThrow(
      'prometheus.retentionSize: (8GiB) must stay below 95% of prometheus.storage.size (5Gi)',
    );
    expect(custom.spec.storage!.volumeClaimTemplate!.spec!.storageClassName).toBe('fast');
  });
});

describe('the deploy config', () => {
  it.each([
    [
      { serviceMonitor: { scrapeTimeout: '15s' } },
      'serviceMonitor.scrapeTimeout = "15s": (15s) must not exceed serviceMonitor.interval (10s)',
    ],
    [{ replicas: 1 }, 'replicas = 1: must be at least 2'],
    [{ prometheus: { retention: 'forever' } }, 'prometheus.retention = "forever": must be a Prometheus duration'],
    [{ prometheus: { storage: { size: '10Gi' }, retentionSize: '10GiB' } }, 'prometheus.retentionSize = "10GiB"'],
    [{ name: 'Rest_API' }, 'name = "Rest_API": must be a DNS-1123 label'],
    [{ serviceMonitor: { intervall: '10s' } }, 'serviceMonitor.intervall: is not a known key'],
    [{ monitoring: { scrapeInterval: '10s' } }, 'monitoring: is not a known key'],
    [{ alerts: { highErrorRate: { perSecond: -1, for: '5m', severity: 'critical' } } }, 'alerts.highErrorRate.perSecond = -1'],
    [
      { serviceMonitor: { additionalLabels: { release: 'not ok!' } } },
      'serviceMonitor.additionalLabels.release = "not ok!": must be a label value',
    ],
    [{ alerts: { window: '30s' } }, 'alerts.window = "30s": (30s) must cover at least 4 scrapes (serviceMonitor.interval 10s)'],
    [{ prometheus: { enabled: false } }, 'alertmanager.enabled: (true) needs prometheus.enabled'],
    [{ networkPolicy: { metricsFrom: [] } }, 'networkPolicy.metricsFrom = []: must name at least one peer'],
    [{ database: { existingSecret: 'Bad_Name' } }, 'database.existingSecret = "Bad_Name": must be a DNS-1123 label'],
    [{ auth: { mode: 'jwt' } }, 'auth.jwt.jwksUrl: is required when auth.mode is jwt'],
    [{ auth: { mode: 'open' } }, 'auth.mode = "open"'],
    [
      { auth: { mode: 'none', existingSecret: 'keys' } },
      'auth.existingSecret = "keys": is read only when auth.mode is api-key (it is none)',
    ],
    [{ auth: { jwt: { algorithms: ['HS256'] } } }, 'auth.jwt.algorithms.0 = "HS256"'],
    [{ database: { ca: { secret: 'db-ca' } } }, 'database.ca = {"secret":"db-ca"}: needs database.existingSecret'],
  ])('rejects %j naming the key and value', (input, message) => {
    expect(() => resolveConfig(input)).toThrow(DeployConfigError);
    expect(() => resolveConfig(input)).toThrow(message);
  });

  it('reads overrides from the file named by SYNTH_CONFIG', async () => {
    const dir = await tempDir('synth-config');
    const file = join(dir, 'config.yaml');
    writeFileSync(file, 'namespace: shop\nimage:\n  repository: registry.example/rest-api\n  tag: 2.0.0\n');
    const config = loadDeployConfig([], { SYNTH_CONFIG: file });
    expect(config).toMatchObject({ namespace: 'shop', image: { repository: 'registry.example/rest-api', tag: '2.0.0' } });
    expect(loadDeployConfig(['--config', file], {}).namespace).toBe('shop');
  });
});

/** The parts of dist/local/prometheus.yml and of its rule files that the tests read. */
interface PrometheusConfig {
  readonly rule_files: readonly string[];
  readonly scrape_configs: readonly unknown[];
}
interface RuleFile {
  readonly groups: readonly unknown[];
}

/** The built entry of `npm run synth` (the test script builds first). */
const SYNTH_ENTRY = join(PROJECT_ROOT, 'build', 'k8s', 'main.js');
const SYNTH_FILES = [
  'rest-api.yaml',
  'namespace/rest-api.yaml',
  'local/prometheus.yml',
  'local/alert_rules.yml',
  'local/recording_rules.yml',
  'local/slo_rules.yml',
];

/** Every file under `dir`, by path relative to `root`, with its content. */
function filesIn(dir: string, root = dir): Record<string, string> {
  const files: Record<string, string> = {};
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, e.name);
    if (e.isDirectory()) Object.assign(files, filesIn(path, root));
    else files[relative(root, path)] = readFileSync(path, 'utf8');
  }
  return files;
}

describe('npm run synth output', () => {
  it('is byte-identical across separate runs of `npm run synth`, each a fresh process in another time zone', async () => {
    // Two synths in one process share whatever was decided at load (a random value, the pid, the
    // clock or the time zone); separate processes, as two runs of `npm run synth` are, do not.
    const runs: Record<string, string>[] = [];
    for (const tz of ['UTC', 'Pacific/Kiritimati']) {
      const out = await tempDir('synth-run');
      const run = spawnSync(process.execPath, [SYNTH_ENTRY], {
        cwd: PROJECT_ROOT,
        env: { PATH: process.env.PATH, TZ: tz, SYNTH_OUTDIR: out },
        encoding: 'utf8',
      });
      expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
      runs.push(filesIn(out));
    }
    const [first, second] = runs;
    expect(Object.keys(first!)).toEqual(expect.arrayContaining([...SYNTH_FILES, 'grafana/rest-api.json']));
    expect(second).toEqual(first);
  });

  it('leaves every file untouched, content and modification time, when rendered twice into the same folder (skaffold watches them)', async () => {
    const out = await tempDir('synth-again');
    synth(resolveConfig({}), out);
    const files = ['rest-api.yaml', 'namespace/rest-api.yaml', 'local/prometheus.yml', 'grafana/rest-api.json'];
    // Back-date the files so that any rewrite shows as a newer modification time.
    const past = new Date(Date.now() - 3_600_000);
    for (const f of files) utimesSync(join(out, f), past, past);
    const before = files.map((f) => [f, readFileSync(join(out, f), 'utf8'), statSync(join(out, f)).mtimeMs]);
    writeFileSync(join(out, 'stale.yaml'), 'kind: Leftover\n');
    synth(resolveConfig({}), out);
    expect(files.map((f) => [f, readFileSync(join(out, f), 'utf8'), statSync(join(out, f)).mtimeMs])).toEqual(before);
    // Files the synth no longer produces go, so kubectl never applies a leftover.
    expect(existsSync(join(out, 'stale.yaml'))).toBe(false);
    // A changed config rewrites what changed.
    synth(resolveConfig({ replicas: 3 }), out);
    expect(statSync(join(out, 'rest-api.yaml')).mtimeMs).toBeGreaterThan(before[0]![2] as number);
    expect(statSync(join(out, 'namespace/rest-api.yaml')).mtimeMs).toBe(before[1]![2]);
  });

  it('applies pull secrets, pod annotations and labels, scheduling and an existing service account to the Deployment', () => {
    const deployment: KindMap['Deployment'] = find(
      appManifests({
        image: { pullSecrets: ['regcred'] },
        podAnnotations: { 'example.com/team': 'payments' },
        podLabels: { team: 'payments' },
        nodeSelector: { 'kubernetes.io/os': 'linux' },
        tolerations: [{ key: 'dedicated', operator: 'Exists' }],
        affinity: { podAntiAffinity: {} },
        serviceAccount: { create: false, name: 'runner' },
      }),
      'Deployment',
    );
    const pod = deployment.spec!.template;
    expect(pod.metadata!.annotations).toEqual({ 'example.com/team': 'payments' });
    expect(pod.metadata!.labels!.team).toBe('payments');
    expect(pod.spec).toMatchObject({
      imagePullSecrets: [{ name: 'regcred' }],
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [{ key: 'dedicated', operator: 'Exists' }],
      affinity: { podAntiAffinity: {} },
      serviceAccountName: 'runner',
    });
    expect(() => resolveConfig({ serviceAccount: { create: false } })).toThrow(
      /serviceAccount\.name: must name an existing service account/,
    );
  });

  it('writes the manifests and plain Prometheus files whose rules are exactly the PrometheusRule groups', async () => {
    const out = await tempDir('synth-out');
    synth(resolveConfig({}), out);
    // The synth writes Kubernetes objects; the local Prometheus files are read as the shapes below.
    const docs = parseAllDocuments(readFileSync(join(out, 'rest-api.yaml'), 'utf8')).map((d) => d.toJS() as K8sObject);
    expect(docs).toEqual(objects.filter((o) => o.kind !== 'Namespace'));
    // The namespace in a folder of its own: `kubectl delete -f dist/` (not recursive) leaves it alone.
    const ns = parseAllDocuments(readFileSync(join(out, 'namespace', 'rest-api.yaml'), 'utf8')).map((d) => d.toJS() as K8sObject);
    expect(ns).toEqual([find(objects, 'Namespace')]);
    expect(ns[0]!.metadata!.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/warn': 'restricted',
      'pod-security.kubernetes.io/audit': 'restricted',
    });
    const prom = parseAllDocuments(readFileSync(join(out, 'local', 'prometheus.yml'), 'utf8'))[0]!.toJS() as PrometheusConfig;
    expect(prom.rule_files).toEqual(['alert_rules.yml', 'recording_rules.yml', 'slo_rules.yml']);
    const local = prom.rule_files.flatMap(
      (f) => (parseAllDocuments(readFileSync(join(out, 'local', f), 'utf8'))[0]!.toJS() as RuleFile).groups,
    );
    expect(local).toEqual(rule.spec.groups);
    expect(prom.scrape_configs).toEqual([
      expect.objectContaining({
        job_name: 'rest-api',
        metrics_path: '/metrics',
        scrape_interval: '10s',
        // The target labels the operator gives a ServiceMonitor target, so the same rules match.
        static_configs: [{ targets: ['localhost:8080'], labels: { namespace: 'rest-api', endpoint: 'metrics' } }],
      }),
    ]);
  });
});
