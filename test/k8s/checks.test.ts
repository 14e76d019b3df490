import type { K8sObject } from '../../k8s/checks';
import { checkWiring, WIRING_CHECKS } from '../../k8s/checks';
import { selects } from '../../k8s/label-selectors';
import { checkManifests } from '../../k8s/main';
import { checkPodSecurity } from '../../k8s/pss';
import { clone, find, manifests } from '../helpers/manifests';

const good = manifests();

/** A broken copy of the project's manifests: `mutate` edits it in place. */
function broken(mutate: (objects: K8sObject[]) => void): K8sObject[] {
  const copy = clone(good);
  mutate(copy);
  return copy;
}

describe('label selectors', () => {
  it.each([
    [{ matchLabels: { a: '1' } }, { a: '1', b: '2' }, true],
    [{ matchLabels: { a: '1' } }, { a: '2' }, false],
    [{}, {}, true],
    [undefined, { a: '1' }, false],
    [{ matchExpressions: [{ key: 'a', operator: 'In', values: ['1', '2'] }] }, { a: '2' }, true],
    [{ matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['1'] }] }, { a: '1' }, false],
    [{ matchExpressions: [{ key: 'a', operator: 'Exists' }] }, { b: '1' }, false],
    [{ matchExpressions: [{ key: 'a', operator: 'DoesNotExist' }] }, { b: '1' }, true],
  ])('%j against %j selects: %s', (selector, labels, expected) => {
    expect(selects(selector, labels)).toBe(expected);
  });
});

describe('the wiring checks', () => {
  it('pass on the project manifests, in every mode', () => {
    expect(checkManifests(good)).toEqual([]);
    expect(checkManifests(manifests({ database: { existingSecret: 'prod-db' } }))).toEqual([]);
    expect(
      checkManifests(manifests({ name: 'shop', namespace: 'shop-prod', serviceMonitor: { additionalLabels: { release: 'kps' } } })),
    ).toEqual([]);
    expect(checkManifests(manifests({ networkPolicy: { enabled: false } }))).toEqual([]);
    expect(checkManifests(manifests({ auth: { existingSecret: 'team-keys', existingSecretKey: 'keys' } }))).toEqual([]);
    const jwt = { jwksUrl: 'https://idp.example/jwks', issuer: 'https://idp.example', audience: 'items' };
    expect(checkManifests(manifests({ auth: { mode: 'jwt', jwt } }))).toEqual([]);
    const external = { prometheus: { enabled: false }, alertmanager: { enabled: false } };
    expect(checkManifests(manifests(external), { prometheusInCluster: true })).toEqual([]);
  });

  const variants: [string, (o: K8sObject[]) => void, string, RegExp][] = [
    [
      'a ServiceMonitor port that is a number',
      // A number where the model (and the CRD) want a port name: Object.assign lets the test break the type.
      (o) => Object.assign(find(o, 'ServiceMonitor').spec.endpoints[0]!, { port: 9464 }),
      'servicemonitor-port',
      /no named port/,
    ],
    [
      'a ServiceMonitor port the Service does not name',
      (o) => (find(o, 'ServiceMonitor').spec.endpoints[0]!.port = 'http-metrics'),
      'servicemonitor-port',
      /"http-metrics" but Service rest-api has ports named \["http","metrics"\]/,
    ],
    [
      'an unnamed Service port',
      (o) => delete find(o, 'Service', 'rest-api').spec!.ports![1]!.name,
      'servicemonitor-port',
      /has ports named \["http"\]/,
    ],
    [
      'a ServiceMonitor selector matching no Service',
      (o) => (find(o, 'ServiceMonitor').spec.selector.matchLabels!['app.kubernetes.io/name'] = 'api'),
      'servicemonitor-selects-service',
      /none matches/,
    ],
    [
      'a ServiceMonitor looking in another namespace',
      (o) => (find(o, 'ServiceMonitor').spec.namespaceSelector!.matchNames = ['default']),
      'servicemonitor-selects-service',
      /in default/,
    ],
    [
      'a Service selecting no pods',
      (o) => (find(o, 'Service', 'rest-api').spec!.selector!['app.kubernetes.io/component'] = 'web'),
      'service-selects-pods',
      /no pod template/,
    ],
    [
      'a Service targeting a port no container has',
      (o) => (find(o, 'Service', 'rest-api').spec!.ports![1]!.targetPort = 9100),
      'service-target-port',
      /targets 9100/,
    ],
    [
      'ServiceMonitor labels the Prometheus does not select',
      (o) => delete find(o, 'ServiceMonitor').metadata!.labels!['app.kubernetes.io/component'],
      'prometheus-selects-servicemonitor',
      /add label app.kubernetes.io\/component: api to ServiceMonitor rest-api/,
    ],
    [
      'a nil serviceMonitorSelector',
      (o) => delete find(o, 'Prometheus').spec.serviceMonitorSelector,
      'prometheus-selects-servicemonitor',
      /nil serviceMonitorSelector/,
    ],
    [
      'a serviceMonitorNamespaceSelector for another namespace',
      (o) => (find(o, 'Prometheus').spec.serviceMonitorNamespaceSelector!.matchLabels!['kubernetes.io/metadata.name'] = 'monitoring'),
      'prometheus-selects-servicemonitor',
      /namespace/,
    ],
    ['a nil ruleSelector', (o) => delete find(o, 'Prometheus').spec.ruleSelector, 'prometheus-selects-rule', /nil ruleSelector/],
    [
      'PrometheusRule labels the Prometheus does not select',
      (o) => (find(o, 'PrometheusRule').metadata!.labels!['app.kubernetes.io/instance'] = 'k8s'),
      'prometheus-selects-rule',
      /add label app.kubernetes.io\/instance: rest-api to PrometheusRule/,
    ],
    ['no Prometheus at all', (o) => o.splice(o.indexOf(find(o, 'Prometheus')), 1), 'prometheus-selects-servicemonitor', /there is none/],
    [
      'a scrapeTimeout above the interval',
      (o) => (find(o, 'ServiceMonitor').spec.endpoints[0]!.scrapeTimeout = '15s'),
      'scrape-timeout',
      /scrapeTimeout 15s exceeds interval 10s/,
    ],
    ['the default 24h retention', (o) => delete find(o, 'Prometheus').spec.retention, 'prometheus-retention', /default of 24h/],
    [
      'a retentionSize as large as the volume',
      (o) => (find(o, 'Prometheus').spec.retentionSize = '10GiB'),
      'prometheus-retention-size',
      /not safely below/,
    ],
    ['no persistent volume', (o) => delete find(o, 'Prometheus').spec.storage, 'prometheus-storage', /no persistent volume/],
    ['no fsGroup', (o) => delete find(o, 'Prometheus').spec.securityContext!.fsGroup, 'prometheus-security-context', /fsGroup/],
    [
      'no RBAC for endpoints',
      (o) => o.splice(o.indexOf(find(o, 'RoleBinding', 'rest-api-prometheus-discovery')), 1),
      'prometheus-rbac',
      /list endpoints/,
    ],
    ['no sampleLimit', (o) => delete find(o, 'ServiceMonitor').spec.sampleLimit, 'servicemonitor-sample-limit', /sampleLimit/],
    [
      'a PDB selecting no pods',
      (o) => (find(o, 'PodDisruptionBudget').spec!.selector!.matchLabels!['app.kubernetes.io/name'] = 'x'),
      'pdb-selects-pods',
      /no pod template/,
    ],
    [
      'a NetworkPolicy selecting no pods',
      (o) => (find(o, 'NetworkPolicy', 'rest-api').spec!.podSelector!.matchLabels!['app.kubernetes.io/name'] = 'x'),
      'networkpolicy-selects-pods',
      /no pod template/,
    ],
    [
      'the development PostgreSQL left without a NetworkPolicy',
      (o) => o.splice(o.indexOf(find(o, 'NetworkPolicy', 'rest-api-postgres')), 1),
      'networkpolicy-isolates-pods',
      /no NetworkPolicy selects the pods of StatefulSet rest-api-postgres .* for Ingress/,
    ],
    [
      'the API open for egress',
      (o) => (find(o, 'NetworkPolicy', 'rest-api').spec!.policyTypes = ['Ingress']),
      'networkpolicy-isolates-pods',
      /no NetworkPolicy selects the pods of Deployment rest-api .* for Egress: they can open connections to anything/,
    ],
    [
      'the Alertmanager left without a NetworkPolicy',
      (o) => o.splice(o.indexOf(find(o, 'NetworkPolicy', 'rest-api-alertmanager')), 1),
      'networkpolicy-isolates-pods',
      /pods of Alertmanager rest-api \(.*"alertmanager":"rest-api".*\) for Ingress/,
    ],
    [
      'a NetworkPolicy closing the metrics port to Prometheus',
      (o) => {
        const spec = find(o, 'NetworkPolicy', 'rest-api').spec!;
        spec.ingress = spec.ingress!.filter((r) => !JSON.stringify(r.from ?? []).includes('prometheus'));
      },
      'networkpolicy-metrics',
      /does not let the pods of the Prometheus in namespace rest-api .* reach port metrics/,
    ],
    [
      'a selector with the version in it',
      (o) => {
        find(o, 'Deployment').spec!.selector.matchLabels!['app.kubernetes.io/version'] = '0.1.0';
      },
      'workload-selector-version',
      /version/,
    ],
    [
      'a workload selector its own pods do not match',
      (o) => (find(o, 'StatefulSet').spec!.selector.matchLabels!['app.kubernetes.io/component'] = 'db'),
      'workload-selector',
      /StatefulSet rest-api-postgres selector .* does not match its pod labels/,
    ],
    [
      'the keys Secret mounted under another name than the Job makes',
      (o) => (find(o, 'Deployment').spec!.template.spec!.volumes!.find((v) => v.name === 'api-keys')!.secret!.secretName = 'keys'),
      'api-keys-mounted',
      /mounts the keys Secret keys, but the keys Job makes rest-api-api-keys/,
    ],
    [
      'the keys file mounted by subPath',
      (o) => {
        const mount = find(o, 'Deployment').spec!.template.spec!.containers[0]!.volumeMounts!.find((m) => m.name === 'api-keys')!;
        Object.assign(mount, { mountPath: '/etc/rest-api/api-keys/API_KEYS', subPath: 'API_KEYS' });
      },
      'api-keys-mounted',
      /reads AUTH_API_KEYS_FILE \/etc\/rest-api\/api-keys\/API_KEYS, which is in no mounted Secret/,
    ],
  ];

  it('have a broken variant for every check in the registry', () => {
    expect(new Set(variants.map(([, , id]) => id))).toEqual(new Set(WIRING_CHECKS.map((c) => c.id)));
  });

  it.each(variants)('catch %s', (_case, mutate, check, message) => {
    const findings = checkWiring(broken(mutate));
    expect(findings.map((f) => f.check)).toContain(check);
    const finding = findings.find((f) => f.check === check)!;
    expect(`${finding.message} fix: ${finding.fix}`).toMatch(message);
    expect(finding.fix.length).toBeGreaterThan(10);
    expect(finding.objects.length).toBeGreaterThan(0);
  });
});

describe('Pod Security Standards restricted', () => {
  it('hold for every pod template and the Prometheus', () => {
    expect(checkPodSecurity(good)).toEqual([]);
    // The app and the dev database are both checked.
    expect(good.filter((o) => ['Deployment', 'StatefulSet', 'Prometheus'].includes(o.kind!))).toHaveLength(3);
  });

  it.each<[string, (o: K8sObject[]) => void, RegExp]>([
    [
      'privilege escalation',
      (o) => (find(o, 'Deployment').spec!.template.spec!.containers[0]!.securityContext!.allowPrivilegeEscalation = true),
      /allowPrivilegeEscalation/,
    ],
    [
      'a root UID',
      (o) => {
        const spec = find(o, 'StatefulSet').spec!.template.spec!;
        spec.securityContext!.runAsUser = 0;
        delete spec.containers[0]!.securityContext!.runAsUser;
      },
      /UID 0/,
    ],
    [
      'kept capabilities',
      (o) => (find(o, 'Deployment').spec!.template.spec!.containers[0]!.securityContext!.capabilities = { drop: ['NET_RAW'] }),
      /drop ALL/,
    ],
    [
      'no seccomp profile',
      (o) => {
        const spec = find(o, 'StatefulSet').spec!.template.spec!;
        delete spec.securityContext!.seccompProfile;
        delete spec.containers[0]!.securityContext!.seccompProfile;
      },
      /seccomp/,
    ],
    [
      'a hostPath volume',
      (o) => find(o, 'Deployment').spec!.template.spec!.volumes!.push({ name: 'h', hostPath: { path: '/' } }),
      /hostPath/,
    ],
    [
      'a writable root filesystem',
      (o) => (find(o, 'Deployment').spec!.template.spec!.containers[0]!.securityContext!.readOnlyRootFilesystem = false),
      /readOnlyRootFilesystem/,
    ],
    ['a Prometheus running as root', (o) => (find(o, 'Prometheus').spec.securityContext!.runAsUser = 0), /non-root runAsUser/],
  ])('catch %s', (_case, mutate, message) => {
    const findings = checkPodSecurity(broken(mutate));
    expect(findings.map((f) => f.message).join('\n')).toMatch(message);
  });
});
