/**
 * The Helm chart rendered by the real helm (v4, .tools/bin/helm): lint, the values files of
 * charts/rest-api/ci/ checked like the synth's output, releases side by side, values rejected
 * with their name, NOTES and the helm test pod. Parity with the synth: helm-parity.test.ts.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { readFileSync } from 'node:fs';
import { prometheusesSelecting } from '../../k8s/checks';
import type { K8sObject } from '../../k8s/checks';
import { checkManifests } from '../../k8s/main';
import { isKind, ofKind } from '../../k8s/objects';
import type { KindMap } from '../../k8s/objects';
import { loadCrdDirectory, loadOperatorCrdValidators } from '../helpers/crd-schema';
import type { CrdValidator } from '../helpers/crd-schema';
import { CHART, HAVE_HELM, helm, HELM_HOWTO, helmTemplate, helmTemplateError } from '../helpers/helm';
import { find, HAVE_SHARED_SCHEMAS, requireInCi, SHARED_SCHEMAS } from '../helpers/manifests';
import { KNOWN_MODEL_BUGS, validateModels } from '../helpers/models';

const ciFiles = readdirSync(join(CHART, 'ci'))
  .sort()
  .map((f) => `ci/${f}`);
/** Custom resources without a kubernetes-models model, checked against their upstream CRDs. */
const OTHER_CRDS = ['postgresql.cnpg.io/v1', 'gateway.networking.k8s.io/v1', 'keda.sh/v1alpha1'];
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const ref = (o: K8sObject) => `${o.kind}/${o.metadata?.name}`;

/** Where a spec of any kind holds label maps: a selector's matchLabels, a pod template's labels. */
interface LabelledSpec {
  readonly selector?: { readonly matchLabels?: Record<string, string> };
  readonly template?: { readonly metadata?: { readonly labels?: Record<string, string> } };
}

/** Every label map of an object: its own, selectors, pod templates. */
function labelMaps(o: K8sObject): Record<string, string>[] {
  const spec = (o as { spec?: LabelledSpec }).spec;
  const maps = [o.metadata?.labels, spec?.selector?.matchLabels, spec?.template?.metadata?.labels];
  if (isKind(o, 'Service')) {
    const service: KindMap['Service'] = o;
    maps.push(service.spec?.selector);
  }
  return maps.filter((m): m is Record<string, string> => m !== undefined && m !== null);
}

describe('the Helm chart rendered by the real helm', () => {
  requireInCi('the Helm chart tests', HAVE_HELM, HELM_HOWTO);
  const run = HAVE_HELM ? it : it.skip;
  const runEach = HAVE_HELM ? it.each : it.skip.each;
  const describeRendered = HAVE_HELM ? describe.each : describe.skip.each;

  runEach(["the chart's values", ...ciFiles])('passes helm lint --strict with %s', (file: string) => {
    const r = helm(['lint', '--strict', CHART, ...(file.startsWith('ci/') ? ['-f', join(CHART, file)] : [])]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(r.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
  });

  describeRendered(ciFiles.map((f) => [f]))('with %s', (file) => {
    const objects = HAVE_HELM ? helmTemplate('rest-api', 'shop', ['-f', join(CHART, file)]) : [];
    // A ci values file is Helm values (deploy-config input); only prometheus.enabled is read here.
    const ciValues = parse(readFileSync(join(CHART, file), 'utf8')) as { prometheus?: { enabled?: boolean } } | null;
    const inCluster = ciValues?.prometheus?.enabled === false;

    it('renders objects, all namespaced in the release namespace', () => {
      process.stdout.write(`${file}: ${objects.length} objects\n`);
      expect(objects.length).toBeGreaterThan(8);
      expect(objects.filter((o) => o.metadata?.namespace !== 'shop').map(ref)).toEqual([]);
      // A namespace admin can install it.
      expect(
        objects
          .filter((o) =>
            /^(Namespace|ClusterRole|ClusterRoleBinding|CustomResourceDefinition|PersistentVolume|StorageClass)$/.test(o.kind!),
          )
          .map(ref),
      ).toEqual([]);
    });

    it('passes the checks the synth enforces (wiring, Pod Security restricted)', () => {
      expect(checkManifests(objects, { prometheusInCluster: inCluster })).toEqual([]);
    });

    it('passes kubernetes-models validation with no unknown field', () => {
      // The CloudNativePG and Gateway API kinds have no model: the upstream CRDs check them below.
      for (const r of validateModels(objects.filter((o) => !OTHER_CRDS.includes(o.apiVersion ?? '')))) {
        expect({
          ref: r.ref,
          errors: r.modelErrors.filter((e) => !KNOWN_MODEL_BUGS.some((bug) => bug.test(e))),
          unknown: r.unknownFields,
        }).toEqual({ ref: r.ref, errors: [], unknown: [] });
      }
    });

    it('has valid label values and Helm labels on every object', () => {
      for (const o of objects) {
        for (const m of labelMaps(o)) {
          for (const [k, v] of Object.entries(m))
            expect({ ref: ref(o), k, v, ok: LABEL_VALUE.test(v) && v.length <= 63 }).toEqual({ ref: ref(o), k, v, ok: true });
        }
        expect({ ref: ref(o), labels: o.metadata?.labels }).toEqual({
          ref: ref(o),
          labels: expect.objectContaining({
            'app.kubernetes.io/managed-by': 'Helm',
            'app.kubernetes.io/instance': 'rest-api',
            'helm.sh/chart': 'rest-api-0.1.0',
          }) as unknown,
        });
      }
    });
  });

  describe('the Prometheus Operator resources against the upstream CRDs', () => {
    requireInCi('the CRD conformance tests', HAVE_SHARED_SCHEMAS, `../shared/schemas is absent at ${SHARED_SCHEMAS}`);
    const validators = HAVE_SHARED_SCHEMAS ? loadOperatorCrdValidators(SHARED_SCHEMAS) : new Map<string, ValidateFunction>();
    const custom = HAVE_HELM
      ? ciFiles.flatMap((f) =>
          helmTemplate('rest-api', 'shop', ['-f', join(CHART, f)])
            .filter((o) => o.apiVersion === 'monitoring.coreos.com/v1')
            .map((o) => [`${f}: ${ref(o)}`, o] as const),
        )
      : [];
    (HAVE_SHARED_SCHEMAS && HAVE_HELM ? it.each(custom) : it.skip.each(custom))('%s conforms', (_name, object) => {
      const validate = validators.get(`${object.apiVersion} ${object.kind}`)!;
      const valid = validate(object);
      expect(validate.errors ?? []).toEqual([]);
      expect(valid).toBe(true);
    });
  });

  describe('the CloudNativePG, Gateway API and KEDA resources against the upstream CRDs, CEL rules included', () => {
    const validators = new Map<string, CrdValidator>();
    if (HAVE_SHARED_SCHEMAS) {
      for (const dir of ['gateway-api-v1.6.1', 'cloudnative-pg-v1.30.0', 'keda-v2.20.2']) {
        for (const [k, v] of loadCrdDirectory(join(SHARED_SCHEMAS, dir))) validators.set(k, v);
      }
    }
    const custom = HAVE_HELM
      ? ciFiles.flatMap((f) =>
          helmTemplate('rest-api', 'shop', ['-f', join(CHART, f)])
            .filter((o) => OTHER_CRDS.includes(o.apiVersion ?? ''))
            .map((o) => [`${f}: ${ref(o)}`, o] as const),
        )
      : [];
    (HAVE_SHARED_SCHEMAS && HAVE_HELM ? it.each(custom) : it.skip.each(custom))('%s conforms', (_name, object) => {
      const validator = validators.get(`${object.apiVersion} ${object.kind}`)!;
      expect(validator.schemaErrors(object)).toEqual([]);
      const cel = validator.cel(object);
      expect({ violations: cel.violations, unevaluated: cel.unevaluated }).toEqual({ violations: [], unevaluated: [] });
      expect(cel.evaluated).toBeGreaterThan(0);
    });
  });

  run('renders two releases side by side in one namespace with no object name in common', () => {
    const names = (release: string) => helmTemplate(release, 'shared').map(ref);
    const alpha = names('alpha');
    const beta = names('beta');
    expect(alpha.length).toBe(beta.length);
    expect(alpha.filter((n) => beta.includes(n))).toEqual([]);
    expect(alpha).toContain('Deployment/alpha-rest-api');
  });

  run('keeps two releases in one namespace apart: each Prometheus selects its own release, and the wiring checks pass on both', () => {
    const both = [...helmTemplate('alpha', 'shared', ['--skip-tests']), ...helmTemplate('beta', 'shared', ['--skip-tests'])];
    expect(checkManifests(both)).toEqual([]);
    for (const release of ['alpha', 'beta']) {
      const sm = both.find((o) => o.kind === 'ServiceMonitor' && o.metadata?.name === `${release}-rest-api`)!;
      expect(prometheusesSelecting(both, sm, `${release}-rest-api`).map((p) => p.metadata?.name)).toEqual([`${release}-rest-api`]);
      const service: KindMap['Service'] = find(both, 'Service', `${release}-rest-api`);
      const selected = ofKind(both, 'Deployment').filter((d: KindMap['Deployment']) =>
        Object.entries(service.spec!.selector!).every(([k, v]) => d.spec!.template.metadata!.labels![k] === v),
      );
      expect(selected.map(ref)).toEqual([`Deployment/${release}-rest-api`]);
      // Each Prometheus sends to its own Alertmanager's Service, which selects that Alertmanager's
      // pods only (the operator labels them alertmanager: <name>), and each Alertmanager loads only
      // the AlertmanagerConfigs labelled with its release: one notification per alert.
      const prometheus: KindMap['Prometheus'] = find(both, 'Prometheus', `${release}-rest-api`);
      const target = prometheus.spec.alerting!.alertmanagers[0]!;
      expect(target).toMatchObject({ name: `${release}-rest-api-alertmanager`, namespace: 'shared', port: 'web' });
      const amService: KindMap['Service'] = find(both, 'Service', target.name);
      expect(amService.spec!.selector).toEqual({ alertmanager: `${release}-rest-api` });
      const am: KindMap['Alertmanager'] = find(both, 'Alertmanager', `${release}-rest-api`);
      expect(am.spec.alertmanagerConfigSelector).toEqual({ matchLabels: { 'app.kubernetes.io/instance': release } });
    }
  });

  run('reads an existing database Secret and renders no database of its own with database.existingSecret', () => {
    const objects = helmTemplate('rest-api', 'rest-api', ['--set', 'database.existingSecret=my-db']);
    expect(objects.filter((o) => o.kind === 'Secret' || o.kind === 'StatefulSet' || ref(o).includes('postgres')).map(ref)).toEqual([]);
    const deployment: KindMap['Deployment'] = find(objects, 'Deployment');
    const env = deployment.spec!.template.spec!.containers[0]!.env!;
    expect(env.find((e) => e.name === 'DATABASE_URL')!.valueFrom!.secretKeyRef).toEqual({ name: 'my-db', key: 'DATABASE_URL' });
  });

  it.each([
    ['a 64-hex image id', 'f'.repeat(64), `rest-api:${'f'.repeat(64)}`],
    ['a tag with a digest', 'dev@sha256:' + 'a'.repeat(64), `rest-api:dev@sha256:${'a'.repeat(64)}`],
    ['a bare digest', 'sha256:' + 'b'.repeat(64), `rest-api@sha256:${'b'.repeat(64)}`],
  ])('renders valid labels and the image for %s as image.tag', (_what, tag, image) => {
    if (!HAVE_HELM) return;
    const objects = helmTemplate('rest-api', 'rest-api', ['--set-string', `image.tag=${tag}`]);
    for (const o of objects)
      for (const m of labelMaps(o))
        for (const v of Object.values(m)) expect({ v, ok: LABEL_VALUE.test(v) && v.length <= 63 }).toEqual({ v, ok: true });
    const deployment: KindMap['Deployment'] = find(objects, 'Deployment');
    expect(deployment.spec!.template.spec!.containers[0]!.image).toBe(image);
  });

  runEach([
    [['--set', 'replicas=two'], "at '/replicas'"],
    [['--set', 'serviceMonitor.interval=ten'], "at '/serviceMonitor/interval'"],
    [
      ['--set', 'serviceMonitor.interval=10s', '--set', 'serviceMonitor.scrapeTimeout=30s'],
      'serviceMonitor.scrapeTimeout (30s) must not exceed serviceMonitor.interval (10s)',
    ],
    [['--set', 'prometheus.retentionSize=10GiB'], 'prometheus.retentionSize (10GiB) must stay below 95% of prometheus.storage.size (10Gi)'],
    [['--set', 'prometheus.enabled=false'], 'alertmanager.enabled (true) needs prometheus.enabled'],
    [['--set', 'prometheus.retention=7d'], 'slo.period (14d) must not be longer than the Prometheus retention'],
    [['--set', 'serviceMonitor.interval=2m'], 'alerts.window (5m) must cover at least 4 scrapes'],
    [['--set', 'serviceAccount.create=false'], 'serviceAccount.name must name an existing service account'],
    [['--set', 'port=9464'], 'metricsPort (9464) must differ from port'],
    [['--set', 'server.headersTimeoutMs=40000'], 'server.requestTimeoutMs (30000) must not be less than server.headersTimeoutMs (40000)'],
    [['--set', 'prometheus.storage.size=5Gi'], 'prometheus.retentionSize (8GiB) must stay below 95% of prometheus.storage.size (5Gi)'],
    [['--set', 'image.digest=sha256:abc'], "at '/image/digest'"],
    [['--set', 'alerts.highErrorRate.perSecond=0.25'], "at '/alerts/highErrorRate/perSecond'"],
    [['--set', 'auth.mode=jwt'], 'auth.jwt.jwksUrl is required when auth.mode is jwt'],
    [['--set', 'auth.mode=open'], "at '/auth/mode'"],
    [
      ['--set', 'auth.mode=none', '--set', 'auth.existingSecret=keys'],
      'auth.existingSecret is read only when auth.mode is api-key (it is none)',
    ],
    [['--set', 'auth.jwt.algorithms={HS256}'], "at '/auth/jwt/algorithms/0'"],
    [['--set', 'database.ca.secret=db-ca'], 'database.ca needs database.existingSecret'],
    [['--set', 'namespace=shop'], "namespace (shop) differs from the release's namespace (rest-api): install with -n shop"],
    [
      ['--set', 'name=shop-api'],
      'name (shop-api): object names come from the release (now rest-api): set fullnameOverride: shop-api instead',
    ],
  ])('rejects %j, naming the value', (args, message) => {
    expect(helmTemplateError(args)).toContain(message);
  });

  run('prints NOTES with how to reach the API and Prometheus and the verify command on install --dry-run=client', () => {
    const r = helm(['install', 'alpha', CHART, '--namespace', 'shop', '--dry-run=client']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('kubectl -n shop port-forward svc/alpha-rest-api 8080:80');
    expect(r.stdout).toContain('port-forward pod/prometheus-alpha-rest-api-0 9090:9090');
    expect(r.stdout).toContain('npm run verify -- --namespace shop --name alpha-rest-api');
    // The bundled Alertmanager's default configuration notifies no one; the namespace gets no Pod Security labels from Helm.
    expect(r.stdout).toContain('The bundled Alertmanager notifies NOBODY until you give it receivers');
    expect(r.stdout).toContain('labelled app.kubernetes.io/instance: alpha');
    expect(r.stdout).toContain('kubectl label namespace shop pod-security.kubernetes.io/enforce=restricted');
  });

  run('has a helm test pod that checks /readyz and http_requests_total, which the NetworkPolicy admits to the metrics port', () => {
    const objects = helmTemplate('alpha', 'shop');
    const pod: KindMap['Pod'] = find(objects, 'Pod');
    const container = pod.spec!.containers[0]!;
    expect(pod.metadata!.annotations!['helm.sh/hook']).toBe('test');
    expect(container.command!.join(' ')).toMatch(/readyz[\s\S]*http_requests_total/);
    expect(container.env!.find((e) => e.name === 'METRICS_URL')!.value).toBe('http://alpha-rest-api.shop.svc:9464/metrics');
    const policy: KindMap['NetworkPolicy'] = find(objects, 'NetworkPolicy', 'alpha-rest-api');
    const admitted = policy.spec!.ingress!.flatMap((r) => r.from ?? []).map((p) => p.podSelector?.matchLabels);
    expect(admitted).toContainEqual(
      Object.fromEntries(
        Object.entries(pod.metadata!.labels!).filter(([k]) =>
          ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/component'].includes(k),
        ),
      ),
    );
  });

  run('switches objects on and off with the schema switches', () => {
    const kinds = (args: string[]) => helmTemplate('rest-api', 'rest-api', ['--skip-tests', ...args]).map(ref);
    const all = kinds([]);
    expect(all).toEqual(
      expect.arrayContaining([
        'Prometheus/rest-api',
        'Alertmanager/rest-api',
        'ServiceMonitor/rest-api',
        'PrometheusRule/rest-api',
        'NetworkPolicy/rest-api',
        'ConfigMap/rest-api-dashboard',
      ]),
    );
    expect(kinds(['--set', 'grafana.dashboard.enabled=false'])).toEqual(all.filter((r) => r !== 'ConfigMap/rest-api-dashboard'));
    expect(kinds(['--set', 'prometheusRule.enabled=false'])).toEqual(all.filter((r) => r !== 'PrometheusRule/rest-api'));
    expect(kinds(['--set', 'alertmanager.enabled=false']).filter((r) => r.startsWith('Alertmanager'))).toEqual([]);
    const kps = kinds([
      '--set',
      'prometheus.enabled=false',
      '--set',
      'alertmanager.enabled=false',
      '--set',
      'serviceMonitor.enabled=false',
      '--set',
      'networkPolicy.enabled=false',
    ]);
    expect(kps.filter((r) => /^(Prometheus|Alertmanager|ServiceMonitor|NetworkPolicy)\//.test(r))).toEqual([]);
  });

  run('applies the Helm-style values to the Deployment and the monitoring objects', () => {
    const objects = helmTemplate('prod', 'shop', ['-f', join(CHART, 'ci', 'everything-values.yaml')]);
    const deployment: KindMap['Deployment'] = find(objects, 'Deployment');
    // nameOverride: api
    expect(deployment.metadata!.name).toBe('prod-api');
    expect(deployment.metadata!.labels).toMatchObject({ 'app.kubernetes.io/name': 'api', 'app.kubernetes.io/instance': 'prod' });
    const pod = deployment.spec!.template;
    expect(pod.metadata!.annotations).toEqual({ 'example.com/team': 'payments' });
    expect(pod.metadata!.labels!.team).toBe('payments');
    expect(pod.spec).toMatchObject({
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      imagePullSecrets: [{ name: 'one' }, { name: 'two' }],
      serviceAccountName: 'rest-api-runner',
    });
    expect(pod.spec!.tolerations).toHaveLength(1);
    expect(pod.spec!.affinity!.nodeAffinity).toBeDefined();
    expect(deployment.spec!.replicas).toBe(4);
    expect(find(objects, 'ServiceMonitor').metadata!.labels!.release).toBe('kps');
    expect(find(objects, 'PrometheusRule').metadata!.labels!.release).toBe('kps');
    expect(find(objects, 'Prometheus').spec).toMatchObject({
      replicas: 2,
      evaluationInterval: '30s',
      retention: '30d',
      retentionSize: '40GiB',
      scrapeInterval: '30s',
      resources: { requests: { cpu: '500m', memory: '2Gi' }, limits: { memory: '4Gi' } },
    });
    expect(pod.spec!.containers[0]!.env).toEqual(
      expect.arrayContaining([
        { name: 'LOG_LEVEL', value: 'debug' },
        { name: 'FAULT_INJECTION', value: 'true' },
      ]),
    );
    const rules = JSON.stringify(find(objects, 'PrometheusRule').spec);
    expect(rules).toContain('https://runbooks.example/rest-api#');
    expect(rules).toContain('job=\\"prod-api\\"');
    expect(rules).toContain('namespace=\\"shop\\"');
  });
});
