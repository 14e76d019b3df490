import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ruleGroups, ALERT } from '../../k8s/alerts';
import { DeployConfigError, loadDeployConfig, resolveConfig } from '../../k8s/config';
import { PORT_NAME } from '../../k8s/constructs/api';
import { synth } from '../../k8s/main';
import { METRIC } from '../../src/metrics/names';
import { tempDir } from '../helpers/app';
import { clone, find, manifests } from '../helpers/manifests';

const objects = manifests();
const deployment = find(objects, 'Deployment');
const pod = deployment.spec.template.spec;
const api = pod.containers[0];
const service = find(objects, 'Service', 'rest-api');
const serviceMonitor = find(objects, 'ServiceMonitor');
const rule = find(objects, 'PrometheusRule');
const prometheus = find(objects, 'Prometheus');

describe('the API workload', () => {
  it('runs at least 2 replicas with a rollout that never drops below the desired count', () => {
    expect(deployment.spec.replicas).toBe(2);
    expect(deployment.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
  });

  it('probes readiness on /readyz and liveness on /healthz', () => {
    expect(api.readinessProbe.httpGet).toMatchObject({ path: '/readyz', port: 8080 });
    expect(api.livenessProbe.httpGet).toMatchObject({ path: '/healthz', port: 8080 });
  });

  it('gives the app time to drain: preStop delay, then its own shutdown timeout, within the grace period', () => {
    const preStop = Number(api.lifecycle.preStop.exec.command[1]);
    const shutdownMs = Number(api.env.find((e: any) => e.name === 'SHUTDOWN_TIMEOUT_MS').value);
    expect(preStop).toBe(5);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(preStop + shutdownMs / 1000);
  });

  it('sets resources and spreads replicas across nodes', () => {
    expect(api.resources).toEqual({ requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } });
    expect(pod.topologySpreadConstraints.map((t: any) => t.topologyKey)).toContain('kubernetes.io/hostname');
  });

  it('runs restricted: non-root UID, no escalation, no capabilities, RuntimeDefault seccomp, read-only root', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: expect.any(Number), seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(api.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(api.volumeMounts.map((m: any) => m.mountPath).sort()).toEqual(['/tmp', '/var/lib/rest-api']);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(find(objects, 'ServiceAccount', 'rest-api').automountServiceAccountToken).toBe(false);
  });

  it('keeps the selector a stable subset of the labels, without the version', () => {
    const selector = deployment.spec.selector.matchLabels;
    expect(Object.keys(selector).sort()).toEqual(['app.kubernetes.io/component', 'app.kubernetes.io/instance', 'app.kubernetes.io/name']);
    for (const [k, v] of Object.entries(selector)) expect(deployment.spec.template.metadata.labels[k]).toBe(v);
    expect(deployment.spec.template.metadata.labels['app.kubernetes.io/version']).toBe('0.1.0');
    expect(service.spec.selector).toEqual(selector);
  });

  it('exposes named ports on a ClusterIP Service, metrics on its own port', () => {
    expect(service.spec.type).toBe('ClusterIP');
    expect(service.spec.ports.map((p: any) => p.name)).toEqual([PORT_NAME.http, PORT_NAME.metrics]);
    expect(api.env).toEqual(expect.arrayContaining([{ name: 'METRICS_PORT', value: '9464' }]));
  });

  it('reads DATABASE_URL from a Secret', () => {
    expect(api.env.find((e: any) => e.name === 'DATABASE_URL').valueFrom.secretKeyRef).toEqual({ name: 'rest-api-database', key: 'DATABASE_URL' });
  });

  it('has a PodDisruptionBudget and a NetworkPolicy for its pods', () => {
    expect(find(objects, 'PodDisruptionBudget').spec).toEqual({ maxUnavailable: 1, selector: deployment.spec.selector });
    const np = find(objects, 'NetworkPolicy');
    expect(np.spec.podSelector).toEqual(deployment.spec.selector);
    expect(np.spec.ingress[1]).toEqual({
      from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus', 'operator.prometheus.io/name': 'rest-api' } } }],
      ports: [{ port: 'metrics', protocol: 'TCP' }],
    });
  });
});

describe('the database', () => {
  it('deploys a development PostgreSQL on the local profile', () => {
    const sts = find(objects, 'StatefulSet');
    expect(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('1Gi');
    expect(find(objects, 'Secret', 'rest-api-database').stringData.DATABASE_URL).toMatch(/^postgres:\/\/.*@rest-api-postgres:5432\//);
  });

  it('references an existing Secret on the production profile and deploys no database', () => {
    const prod = manifests({ profile: 'production', database: { secretName: 'prod-db' } });
    expect(prod.find((o) => o.kind === 'StatefulSet')).toBeUndefined();
    expect(prod.find((o) => o.kind === 'Secret')).toBeUndefined();
    expect(find(prod, 'Deployment').spec.template.spec.containers[0].env.find((e: any) => e.name === 'DATABASE_URL').valueFrom.secretKeyRef.name).toBe('prod-db');
  });
});

describe('the ServiceMonitor', () => {
  it('scrapes the named metrics port every 10s with a timeout within the interval', () => {
    expect(serviceMonitor.spec.endpoints).toEqual([{ port: 'metrics', path: '/metrics', scheme: 'http', interval: '10s', scrapeTimeout: '5s' }]);
    expect(serviceMonitor.spec.selector.matchLabels).toEqual(service.spec.selector);
    expect(serviceMonitor.spec.sampleLimit).toBe(5000);
  });

  it('carries the labels the Prometheus selects', () => {
    expect(serviceMonitor.metadata?.labels).toMatchObject(prometheus.spec.serviceMonitorSelector.matchLabels);
    expect(rule.metadata?.labels).toMatchObject(prometheus.spec.ruleSelector.matchLabels);
  });
});

describe('the PrometheusRule', () => {
  const rules = rule.spec.groups.flatMap((g: any) => g.rules).filter((r: any) => r.alert !== undefined);
  const byName = (name: string) => rules.find((r: any) => r.alert === name);

  it('has the guide alerts with the guide thresholds and durations', () => {
    expect(byName('HighErrorRate')).toMatchObject({ for: '5m', labels: { severity: 'critical' } });
    expect(byName('HighErrorRate').expr).toContain(`rate(${METRIC.requests5xx}{job="rest-api"}[5m])) > 0.1`);
    expect(byName('HighResponseTime')).toMatchObject({ for: '5m', labels: { severity: 'warning' } });
    expect(byName('HighResponseTime').expr).toMatch(/^histogram_quantile\(0\.95, sum by \([^)]*\ble\b[^)]*\) \(rate\(http_request_duration_seconds_bucket\{job="rest-api"\}\[5m\]\)\)\) > 1$/);
  });

  it('tells on-call when the target is down or missing', () => {
    expect(byName(ALERT.targetDown).expr).toBe('up{job="rest-api"} == 0');
    expect(byName(ALERT.targetMissing).expr).toBe('absent(up{job="rest-api"})');
  });

  it('gives every alert the same shape', () => {
    for (const r of rules) {
      expect(Object.keys(r).sort()).toEqual(['alert', 'annotations', 'expr', 'for', 'labels']);
      expect(Object.keys(r.annotations).sort()).toEqual(['description', 'runbook_url', 'summary']);
      expect(['critical', 'warning', 'info']).toContain(r.labels.severity);
    }
  });

  it('takes thresholds and windows from the config', () => {
    const custom = ruleGroups(resolveConfig({ alerts: { window: '2m', highErrorRate: { perSecond: 0.5, for: '1m', severity: 'warning' } } }));
    const r = custom.flatMap((g) => g.rules).find((x) => x.alert === 'HighErrorRate')!;
    expect(r.expr).toContain('[2m])) > 0.5');
    expect(r).toMatchObject({ for: '1m', labels: { severity: 'warning' } });
  });
});

describe('the Prometheus', () => {
  it('keeps 15 days on a 10Gi volume with a size limit safely below it', () => {
    expect(prometheus.spec).toMatchObject({ retention: '15d', retentionSize: '8GiB' });
    expect(prometheus.spec.storage.volumeClaimTemplate.spec).toEqual({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } } });
  });

  it('sets every selector, with explicit namespace selectors', () => {
    for (const key of ['serviceMonitorSelector', 'ruleSelector', 'serviceMonitorNamespaceSelector', 'ruleNamespaceSelector']) {
      expect(prometheus.spec[key]).toEqual({ matchLabels: expect.any(Object) });
    }
  });

  it('runs non-root with an fsGroup so the volume is writable', () => {
    expect(prometheus.spec.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 2000, fsGroup: 2000, seccompProfile: { type: 'RuntimeDefault' } });
  });

  it('has its own ServiceAccount with least-privilege RBAC', () => {
    expect(prometheus.spec.serviceAccountName).toBe('rest-api-prometheus');
    const roles = objects.filter((o) => o.kind === 'ClusterRole');
    const rules = roles.flatMap((r: any) => r.rules);
    expect(rules).toEqual([
      { apiGroups: [''], resources: ['services', 'endpoints', 'pods'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['configmaps'], verbs: ['get'] },
      { nonResourceURLs: ['/metrics'], verbs: ['get'] },
    ]);
    // Resource access only in the app's namespace.
    expect(find(objects, 'RoleBinding').metadata?.namespace).toBe('rest-api');
    expect(roles.every((r) => r.metadata?.namespace === undefined)).toBe(true);
  });

  it('sends its alerts to an Alertmanager of its own, unless disabled', () => {
    expect(prometheus.spec.alerting).toEqual({ alertmanagers: [{ namespace: 'rest-api', name: 'alertmanager-operated', port: 'web', apiVersion: 'v2' }] });
    expect(find(objects, 'Alertmanager').spec.securityContext).toMatchObject({ runAsNonRoot: true, fsGroup: 2000 });
    const without = manifests({ monitoring: { alertmanager: false } });
    expect(without.find((o) => o.kind === 'Alertmanager')).toBeUndefined();
    expect(find(without, 'Prometheus').spec.alerting).toBeUndefined();
  });

  it('follows config overrides: volume, storage class, retention', () => {
    const custom = find(manifests({ monitoring: { volumeSize: '50Gi', storageClass: 'fast', retention: '30d' } }), 'Prometheus');
    expect(custom.spec).toMatchObject({ retention: '30d', retentionSize: '40GiB' });
    expect(custom.spec.storage.volumeClaimTemplate.spec.storageClassName).toBe('fast');
  });
});

describe('the deploy config', () => {
  it.each([
    [{ monitoring: { scrapeTimeout: '15s' } }, "monitoring.scrapeTimeout = \"15s\": (15s) must not exceed monitoring.scrapeInterval (10s)"],
    [{ replicas: 1 }, 'replicas = 1: must be at least 2'],
    [{ monitoring: { retention: 'forever' } }, 'monitoring.retention = "forever": must be a Prometheus duration'],
    [{ monitoring: { volumeSize: '10Gi', retentionSize: '10GiB' } }, 'monitoring.retentionSize = "10GiB"'],
    [{ name: 'Rest_API' }, 'name = "Rest_API": must be a DNS-1123 label'],
    [{ monitoring: { scrapeIntervall: '10s' } }, 'monitoring.scrapeIntervall: is not a known key'],
    [{ alerts: { highErrorRate: { perSecond: -1, for: '5m', severity: 'critical' } } }, 'alerts.highErrorRate.perSecond = -1'],
    [{ monitoring: { selectorLabels: {} } }, 'monitoring.selectorLabels = {}: must have at least one label'],
  ])('rejects %j naming the key and value', (input, message) => {
    expect(() => resolveConfig(input)).toThrow(DeployConfigError);
    expect(() => resolveConfig(input)).toThrow(message);
  });

  it('reads overrides from the file named by SYNTH_CONFIG', async () => {
    const dir = await tempDir('synth-config');
    const file = join(dir, 'config.yaml');
    require('node:fs').writeFileSync(file, 'namespace: shop\nimage:\n  repository: registry.example/rest-api\n  tag: 2.0.0\n');
    const config = loadDeployConfig([], { SYNTH_CONFIG: file });
    expect(config).toMatchObject({ namespace: 'shop', image: { repository: 'registry.example/rest-api', tag: '2.0.0' } });
    expect(loadDeployConfig(['--config', file], {}).namespace).toBe('shop');
  });
});

describe('npm run synth output', () => {
  it('is identical when synthesized twice', async () => {
    const [a, b] = [await tempDir('synth-a'), await tempDir('synth-b')];
    synth(resolveConfig({}), a);
    synth(resolveConfig({}), b);
    for (const file of ['rest-api.yaml', 'local/prometheus.yml', 'local/alert_rules.yml', 'local/recording_rules.yml', 'local/slo_rules.yml']) {
      expect(readFileSync(join(b, file), 'utf8')).toBe(readFileSync(join(a, file), 'utf8'));
    }
  });

  it('writes the manifests and plain Prometheus files whose rules are exactly the PrometheusRule groups', async () => {
    const out = await tempDir('synth-out');
    synth(resolveConfig({}), out);
    const docs = parseAllDocuments(readFileSync(join(out, 'rest-api.yaml'), 'utf8')).map((d) => d.toJS());
    expect(docs).toEqual(objects);
    expect(docs[0].kind).toBe('Namespace');
    const prom = parseAllDocuments(readFileSync(join(out, 'local', 'prometheus.yml'), 'utf8'))[0]!.toJS();
    expect(prom.rule_files).toEqual(['alert_rules.yml', 'recording_rules.yml', 'slo_rules.yml']);
    const local = prom.rule_files.flatMap((f: string) => parseAllDocuments(readFileSync(join(out, 'local', f), 'utf8'))[0]!.toJS().groups);
    expect(local).toEqual(rule.spec.groups);
    expect(prom.scrape_configs).toEqual([
      expect.objectContaining({ job_name: 'rest-api', metrics_path: '/metrics', scrape_interval: '10s', static_configs: [{ targets: ['localhost:8080'], labels: { namespace: 'rest-api' } }] }),
    ]);
  });
});
