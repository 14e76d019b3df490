/**
 * Every synthesized object against the schemas its consumers use: kubernetes-models' validators,
 * the Kubernetes API types of @kubernetes/client-node (unknown fields are those its typed
 * round trip drops), and the upstream Prometheus Operator CRDs in ../shared/schemas.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ValidateFunction } from 'ajv';
import { parse as parseYaml } from 'yaml';
import type { K8sObject } from '../../k8s/checks';
import type { KindMap } from '../../k8s/objects';
import { loadCrdValidators, loadOperatorCrdValidators } from '../helpers/crd-schema';
import { KNOWN_MODEL_BUGS, validateModels } from '../helpers/models';
import {
  find,
  HAVE_SHARED_SCHEMAS,
  KPS_VALUES_FILE,
  manifests,
  requireInCi,
  SCALE_OUT_VALUES_FILE,
  SHARED_SCHEMAS,
} from '../helpers/manifests';

const variants: [string, K8sObject[]][] = [
  ['defaults (bundled Prometheus, development database)', manifests()],
  [
    'existing database Secret, storage class',
    manifests({ database: { existingSecret: 'prod-db' }, prometheus: { storage: { storageClass: 'standard' } } }),
  ],
  ['next to kube-prometheus-stack', manifests(parseYaml(readFileSync(KPS_VALUES_FILE, 'utf8')))],
  ['scaled out (KEDA, two Prometheus replicas, Thanos)', manifests(parseYaml(readFileSync(SCALE_OUT_VALUES_FILE, 'utf8')))],
  [
    'HPA on CPU, Thanos without upload, remote write',
    manifests({
      autoscaling: { enabled: true },
      prometheus: {
        replicas: 3,
        thanos: { enabled: true, version: 'v0.39.2' },
        remoteWrite: [{ url: 'https://metrics.example/api/v1/write' }],
      },
    }),
  ],
  [
    'KEDA with the cluster Prometheus',
    manifests({ ...parseYaml(readFileSync(KPS_VALUES_FILE, 'utf8')), autoscaling: { enabled: true, keda: { enabled: true } } }),
  ],
];
const MONITORING = 'monitoring.coreos.com/v1';
const KEDA = 'keda.sh/v1alpha1';

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

describe("KEDA's ScaledObject against the upstream CRD (KEDA v2.20.2)", () => {
  requireInCi('the KEDA CRD conformance tests', HAVE_SHARED_SCHEMAS, `../shared/schemas is absent at ${SHARED_SCHEMAS}`);
  const validate = HAVE_SHARED_SCHEMAS
    ? loadCrdValidators(join(SHARED_SCHEMAS, 'keda-v2.20.2', 'keda.sh_scaledobjects.yaml')).get(`${KEDA} ScaledObject`)
    : undefined;
  const scaled = variants.flatMap(([variant, objects]) =>
    objects.filter((o) => o.apiVersion === KEDA).map((o) => [`${variant}: ${o.kind} ${o.metadata?.name}`, o] as const),
  );
  const run = HAVE_SHARED_SCHEMAS ? it : it.skip;

  run('is rendered by the KEDA variants', () => {
    expect(scaled.map(([name]) => name)).toEqual([
      'scaled out (KEDA, two Prometheus replicas, Thanos): ScaledObject rest-api',
      'KEDA with the cluster Prometheus: ScaledObject rest-api',
    ]);
  });

  (HAVE_SHARED_SCHEMAS ? it.each(scaled) : it.skip.each(scaled))('%s conforms', (_name, object) => {
    expect(validate).toBeDefined();
    const valid = validate!(object);
    expect(validate!.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  run('rejects an unknown field and a trigger without its type, as the API server does', () => {
    const so: KindMap['ScaledObject'] = structuredClone(
      find(
        scaled.map(([, o]) => o),
        'ScaledObject',
      ),
    );
    Object.assign(so.spec, { minReplicas: 2 }); // minReplicaCount, as an HPA spells it
    expect(validate!(so)).toBe(false);
    expect(JSON.stringify(validate!.errors)).toContain('minReplicas');
    const untyped = structuredClone(
      find(
        scaled.map(([, o]) => o),
        'ScaledObject',
      ),
    ) as unknown as { spec: { triggers: Record<string, unknown>[] } };
    delete untyped.spec.triggers[0]!.type;
    expect(validate!(untyped)).toBe(false);
  });
});
