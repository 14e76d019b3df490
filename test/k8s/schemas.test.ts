/**
 * Every synthesized object against the schemas its consumers use: kubernetes-models' validators,
 * the Kubernetes API types of @kubernetes/client-node (unknown fields are those its typed
 * round trip drops), and the upstream Prometheus Operator CRDs in ../shared/schemas.
 */
import { readFileSync } from 'node:fs';
import type { ValidateFunction } from 'ajv';
import { parse as parseYaml } from 'yaml';
import type { K8sObject } from '../../k8s/checks';
import type { KindMap } from '../../k8s/objects';
import { loadOperatorCrdValidators } from '../helpers/crd-schema';
import { KNOWN_MODEL_BUGS, validateModels } from '../helpers/models';
import { find, HAVE_SHARED_SCHEMAS, KPS_VALUES_FILE, manifests, requireInCi, SHARED_SCHEMAS } from '../helpers/manifests';

const variants: [string, K8sObject[]][] = [
  ['defaults (bundled Prometheus, development database)', manifests()],
  [
    'existing database Secret, storage class',
    manifests({ database: { existingSecret: 'prod-db' }, prometheus: { storage: { storageClass: 'standard' } } }),
  ],
  ['next to kube-prometheus-stack', manifests(parseYaml(readFileSync(KPS_VALUES_FILE, 'utf8')))],
];
const MONITORING = 'monitoring.coreos.com/v1';

describe.each(variants)('the %s manifests', (_variant, objects) => {
  const results = validateModels(objects);

  it('were all validated', () => {
    expect(results.map((r) => r.ref)).toEqual(objects.map((o) => `${o.kind}/${o.metadata?.name}`));
  });

  it.each(results.map((r) => [r.ref, r] as const))('%s passes kubernetes-models validation', (_ref, r) => {
    expect(r.modelErrors.filter((e) => !KNOWN_MODEL_BUGS.some((bug) => bug.test(e)))).toEqual([]);
  });

  it.each(results.map((r) => [r.ref, r] as const))('%s has no field the Kubernetes API does not know', (_ref, r) => {
    expect(r.unknownFields).toEqual([]);
  });
});

it('the validators catch an unknown field and a wrong type', () => {
  const bad = structuredClone(find(manifests(), 'Deployment'));
  const deployment: KindMap['Deployment'] = bad; // the same object, typed by its model
  const podSpec = deployment.spec!.template.spec!;
  podSpec.containers[0]!.imagePullPolicy = 'IfNotPresent';
  // What the model forbids, on purpose: Object.assign lets the test write it.
  Object.assign(podSpec, { topologySpreadConstraint: [] }); // topologySpreadConstraints, misspelt
  Object.assign(deployment.spec!, { replicas: 'two' }); // not a number
  const [r] = validateModels([bad]);
  expect(r!.unknownFields).toEqual(['.spec.template.spec.topologySpreadConstraint']);
  expect(r!.modelErrors.join()).toContain('replicas');
});

describe('the Prometheus Operator resources against the upstream CRDs', () => {
  requireInCi('the CRD conformance tests', HAVE_SHARED_SCHEMAS, `../shared/schemas is absent at ${SHARED_SCHEMAS}`);
  const validators = HAVE_SHARED_SCHEMAS ? loadOperatorCrdValidators(SHARED_SCHEMAS) : new Map<string, ValidateFunction>();
  const custom = variants.flatMap(([variant, objects]) =>
    objects.filter((o) => o.apiVersion === MONITORING).map((o) => [`${variant}: ${o.kind} ${o.metadata?.name}`, o] as const),
  );

  (HAVE_SHARED_SCHEMAS ? it.each(custom) : it.skip.each(custom))('%s conforms', (_name, object) => {
    const validate = validators.get(`${object.apiVersion} ${object.kind}`);
    expect(validate).toBeDefined();
    const valid = validate!(object);
    expect(validate!.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  (HAVE_SHARED_SCHEMAS ? it : it.skip)('rejects an unknown field, as the API server does', () => {
    const objects = custom.map(([, o]) => o);
    const sm: KindMap['ServiceMonitor'] = structuredClone(find(objects, 'ServiceMonitor'));
    Object.assign(sm.spec.endpoints[0]!, { intervall: '10s' }); // interval, misspelt: a field the model has not
    const validate = validators.get(`${MONITORING} ServiceMonitor`)!;
    expect(validate(sm)).toBe(false);
    expect(JSON.stringify(validate.errors)).toContain('intervall');
  });
});
