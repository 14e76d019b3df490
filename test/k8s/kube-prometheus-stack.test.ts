/**
 * Installing next to kube-prometheus-stack: the values file users pass (k8s/values/) against a
 * real render of kube-prometheus-stack 88.5.3 (release kps, namespace monitoring) from
 * ../shared/fixtures, with the labels its operator puts on the Prometheus pods.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { prometheusesSelecting } from '../../k8s/checks';
import { peerAdmits } from '../../k8s/label-selectors';
import type { K8sObject } from '../../k8s/checks';
import { loadDeployConfig } from '../../k8s/config';
import { checkManifests, synth } from '../../k8s/main';
import { ofKind } from '../../k8s/objects';
import type { KindMap } from '../../k8s/objects';
import { operatorPrometheusPodLabels } from '../../k8s/operator';
import { tempDir } from '../helpers/app';
import { HAVE_HELM, HELM_HOWTO, helmTemplate } from '../helpers/helm';
import { clone, find, HAVE_KPS_FIXTURE, KPS_FIXTURE, KPS_VALUES_FILE, manifests, requireInCi } from '../helpers/manifests';

requireInCi('the kube-prometheus-stack fixture tests', HAVE_KPS_FIXTURE, `${KPS_FIXTURE} is missing (../shared beside the project)`);
const describeWithFixture = HAVE_KPS_FIXTURE ? describe : describe.skip;

const values = parseYaml(readFileSync(KPS_VALUES_FILE, 'utf8')) as Record<string, unknown>;
const config = loadDeployConfig([], { SYNTH_CONFIG: KPS_VALUES_FILE });
const ours = manifests(values);

describe('the kube-prometheus-stack values file', () => {
  it('renders no Prometheus, Alertmanager, Prometheus RBAC or anything cluster-scoped', () => {
    const kinds = ours.map((o) => o.kind);
    for (const kind of ['Prometheus', 'Alertmanager', 'ClusterRole', 'ClusterRoleBinding']) expect(kinds).not.toContain(kind);
    // The only RBAC is the Secret makers': the API keys Job's and the development database's.
    expect(ours.filter((o) => /Role/.test(o.kind!)).map((o) => o.metadata?.name)).toEqual([
      'rest-api-api-keys-secret',
      'rest-api-api-keys-secret',
      'rest-api-postgres-secret',
      'rest-api-postgres-secret',
    ]);
    expect(ours.filter((o) => o.kind === 'ServiceAccount').map((o) => o.metadata?.name)).toEqual([
      'rest-api',
      'rest-api-api-keys',
      'rest-api-postgres',
    ]);
  });

  it('labels the ServiceMonitor and PrometheusRule release: kps', () => {
    expect(find(ours, 'ServiceMonitor').metadata?.labels?.release).toBe('kps');
    expect(find(ours, 'PrometheusRule').metadata?.labels?.release).toBe('kps');
  });

  it('reads the file through SYNTH_CONFIG as users pass it', () => {
    expect(config).toMatchObject({
      prometheus: { enabled: false },
      alertmanager: { enabled: false },
      serviceMonitor: { additionalLabels: { release: 'kps' } },
    });
  });

  it('synthesizes, the wiring checks leaving the selection to the cluster', async () => {
    const out = await tempDir('synth-kps');
    expect(() => synth(config, out)).not.toThrow();
    // Without the cluster's Prometheus in view, selection is unknown, not a failure...
    expect(checkManifests(ours, { prometheusInCluster: true })).toEqual([]);
    // ...and without that option the same objects fail it: the check can fail.
    expect(checkManifests(ours).map((f) => f.check)).toEqual(
      expect.arrayContaining(['prometheus-selects-servicemonitor', 'prometheus-selects-rule']),
    );
  });
});

describeWithFixture('next to the real kube-prometheus-stack render', () => {
  const kps = HAVE_KPS_FIXTURE
    ? parseAllDocuments(readFileSync(KPS_FIXTURE, 'utf8'))
        .map((d) => d.toJS() as K8sObject | null)
        .filter((o): o is K8sObject => o !== null && typeof o.kind === 'string')
    : [];
  const monitoringNs = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'monitoring', labels: { 'kubernetes.io/metadata.name': 'monitoring' } },
  };
  const cluster = [...ours, monitoringNs, ...kps];
  // Read inside the tests: describe.skip still runs this body when the fixture is missing.
  const scraper = () => {
    const kpsPrometheus: KindMap['Prometheus'] = ofKind(kps, 'Prometheus')[0]!;
    return {
      ns: 'monitoring',
      labels: { ...(kpsPrometheus.spec?.podMetadata?.labels ?? {}), ...operatorPrometheusPodLabels(kpsPrometheus.metadata!.name!) },
      nsLabels: { 'kubernetes.io/metadata.name': 'monitoring' },
    };
  };
  const metricsRule = (objects: K8sObject[]) => {
    // The API's policy (the release also has one for each of its other pods).
    const policy: KindMap['NetworkPolicy'] | undefined = ofKind(objects, 'NetworkPolicy').find(
      (np) => np.spec?.podSelector?.matchLabels?.['app.kubernetes.io/component'] === 'api',
    );
    if (policy === undefined) throw new Error('no NetworkPolicy for the API pods');
    return policy.spec!.ingress!.find((r) => r.ports![0]!.port === 'metrics')!;
  };

  it("is selected by kps's Prometheus: ServiceMonitor and PrometheusRule", () => {
    expect(prometheusesSelecting(cluster, find(ours, 'ServiceMonitor'), 'rest-api').map((p) => p.metadata?.name)).toEqual([
      'kps-kube-prometheus-stack-prometheus',
    ]);
    expect(prometheusesSelecting(cluster, find(ours, 'PrometheusRule'), 'rest-api').map((p) => p.metadata?.name)).toEqual([
      'kps-kube-prometheus-stack-prometheus',
    ]);
  });

  it('is not selected without the release label (the pitfall)', () => {
    const unlabelled = manifests({ ...values, serviceMonitor: { additionalLabels: {} }, prometheusRule: { additionalLabels: {} } });
    expect(prometheusesSelecting([...unlabelled, monitoringNs, ...kps], find(unlabelled, 'ServiceMonitor'), 'rest-api')).toEqual([]);
  });

  it("admits kps's Prometheus pods from namespace monitoring to the metrics port, and the wiring checks agree", () => {
    expect(peerAdmits(metricsRule(ours).from, 'rest-api', scraper())).toBe(true);
    expect(checkManifests(cluster).filter((f) => f.objects.some((o) => o.includes('/rest-api/')))).toEqual([]);
  });

  it('admits them with the default peers too (any operator-run Prometheus)', () => {
    const defaults = manifests({ prometheus: { enabled: false }, alertmanager: { enabled: false } });
    expect(metricsRule(defaults).from).toEqual([
      { namespaceSelector: {}, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } } },
    ]);
    expect(peerAdmits(metricsRule(defaults).from, 'rest-api', scraper())).toBe(true);
  });

  it("fails the check when the policy admits only the app's own namespace (the old default)", () => {
    const broken = clone(cluster);
    metricsRule(broken).from = [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } } }];
    expect(peerAdmits(metricsRule(broken).from, 'rest-api', scraper())).toBe(false);
    const findings = checkManifests(broken).filter((f) => f.check === 'networkpolicy-metrics');
    expect(findings).toHaveLength(1);
    expect(findings[0]!.message).toContain('namespace monitoring');
  });

  it.each(['rest-api', 'shop'])(
    'is selected and admitted the same through the chart, installed as release %s with the same values file',
    (release) => {
      requireInCi('the Helm chart tests', HAVE_HELM, HELM_HOWTO);
      if (!HAVE_HELM) return;
      const chart = helmTemplate(release, 'rest-api', ['-f', KPS_VALUES_FILE]);
      const job = release === 'rest-api' ? 'rest-api' : `${release}-rest-api`;
      const withKps = [...chart, monitoringNs, ...kps];
      expect(prometheusesSelecting(withKps, find(chart, 'ServiceMonitor'), 'rest-api').map((p) => p.metadata?.name)).toEqual([
        'kps-kube-prometheus-stack-prometheus',
      ]);
      expect(prometheusesSelecting(withKps, find(chart, 'PrometheusRule'), 'rest-api').map((p) => p.metadata?.name)).toEqual([
        'kps-kube-prometheus-stack-prometheus',
      ]);
      expect(peerAdmits(metricsRule(chart).from, 'rest-api', scraper())).toBe(true);
      expect(checkManifests(withKps).filter((f) => f.objects.some((o) => o.includes('/rest-api/')))).toEqual([]);
      expect(JSON.stringify(find(chart, 'PrometheusRule').spec)).toContain(`job=\\"${job}\\"`);
      // The rules of this values file's SLO period (10d), exactly as the synth writes them.
      if (release === 'rest-api') expect(find(chart, 'PrometheusRule').spec).toEqual(find(ours, 'PrometheusRule').spec);
    },
  );

  it('passes promtool check rules', async () => {
    const HAVE_PROMTOOL = spawnSync('promtool', ['--version']).status === 0;
    requireInCi('promtool', HAVE_PROMTOOL, 'apt-get install prometheus');
    if (!HAVE_PROMTOOL) return;
    const out = await tempDir('kps-rules');
    synth(config, out);
    const r = spawnSync('promtool', ['check', 'rules', join(out, 'local', 'alert_rules.yml')], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.status).toBe(0);
  });
});
