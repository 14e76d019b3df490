/**
 * The objects the edge values render (an Ingress, an HTTPRoute, a CloudNativePG Cluster, with
 * their NetworkPolicies) against what their consumers accept: the built-in kinds against
 * kubernetes-models and the Kubernetes API types, the custom resources against the upstream
 * CRDs in ../shared/schemas, strict about unknown fields and with their CEL rules evaluated.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { K8sObject } from '../../k8s/checks';
import { PROJECT_ROOT } from '../../tools/lib/processes';
import { evaluateCelRules } from '../helpers/crd-cel';
import { loadCrdDirectory } from '../helpers/crd-schema';
import type { CrdValidator } from '../helpers/crd-schema';
import { find, HAVE_SHARED_SCHEMAS, manifests, requireInCi, SHARED_SCHEMAS } from '../helpers/manifests';
import { KNOWN_MODEL_BUGS, validateModels } from '../helpers/models';

const EDGE = parse(readFileSync(join(PROJECT_ROOT, 'charts', 'rest-api', 'ci', 'edge-values.yaml'), 'utf8')) as Record<string, unknown>;
const objects = manifests(EDGE);
const BUILT_IN = /^(v1|apps\/v1|batch\/v1|policy\/v1|networking\.k8s\.io\/v1|rbac\.authorization\.k8s\.io\/v1)$/;
const key = (o: K8sObject) => `${o.apiVersion} ${o.kind}`;

describe('the edge manifests of built-in kinds', () => {
  const builtIn = objects.filter((o) => BUILT_IN.test(o.apiVersion ?? ''));
  const results = validateModels(builtIn);

  it('include the Ingress and a NetworkPolicy for the database', () => {
    expect(results.map((r) => r.ref)).toEqual(expect.arrayContaining(['Ingress/rest-api', 'NetworkPolicy/rest-api-db']));
  });

  it.each(results.map((r) => [r.ref, r] as const))('%s passes kubernetes-models and has no unknown field', (_ref, r) => {
    expect(r.modelErrors.filter((e) => !KNOWN_MODEL_BUGS.some((bug) => bug.test(e)))).toEqual([]);
    expect(r.unknownFields).toEqual([]);
  });
});

describe('the edge custom resources against the upstream CRDs, CEL rules included', () => {
  requireInCi('the CRD conformance tests', HAVE_SHARED_SCHEMAS, `../shared/schemas is absent at ${SHARED_SCHEMAS}`);
  const run = HAVE_SHARED_SCHEMAS ? it : it.skip;
  const validators = new Map<string, CrdValidator>();
  if (HAVE_SHARED_SCHEMAS) {
    for (const dir of ['gateway-api-v1.6.1', 'cloudnative-pg-v1.30.0', 'prometheus-operator-v0.93.0']) {
      for (const [k, v] of loadCrdDirectory(join(SHARED_SCHEMAS, dir))) validators.set(k, v);
    }
  }
  const custom = objects.filter((o) => !BUILT_IN.test(o.apiVersion ?? ''));
  const totals = { evaluated: 0, skipped: 0, unevaluated: 0, byKind: {} as Record<string, number> };

  afterAll(() => {
    if (HAVE_SHARED_SCHEMAS) {
      process.stdout.write(
        `\nCEL rules over the edge custom resources: ${totals.evaluated} evaluations (${JSON.stringify(totals.byKind)}), ` +
          `${totals.skipped} skipped (transition rules), ${totals.unevaluated} not evaluated\n`,
      );
    }
  });

  run('render an HTTPRoute and a Cluster among them', () => {
    expect(custom.map(key)).toEqual(expect.arrayContaining(['gateway.networking.k8s.io/v1 HTTPRoute', 'postgresql.cnpg.io/v1 Cluster']));
  });

  (HAVE_SHARED_SCHEMAS ? it.each : it.skip.each)(custom.map((o) => [`${o.kind} ${o.metadata?.name}`, o] as const))(
    '%s passes the schema and every CEL rule it can be judged by',
    (_name, object) => {
      const validator = validators.get(key(object));
      expect(validator).toBeDefined();
      expect(validator!.schemaErrors(object)).toEqual([]);
      const cel = validator!.cel(object);
      totals.evaluated += cel.evaluated;
      totals.byKind[object.kind!] = (totals.byKind[object.kind!] ?? 0) + cel.evaluated;
      totals.skipped += cel.skipped.length;
      totals.unevaluated += cel.unevaluated.length;
      expect(cel.violations).toEqual([]);
      // A rule the evaluator cannot run would be a hole in this check: there must be none.
      expect(cel.unevaluated).toEqual([]);
    },
  );

  run('evaluates the HTTPRoute against most of its rules, and the Cluster against its own', () => {
    const route = validators.get('gateway.networking.k8s.io/v1 HTTPRoute')!;
    const cluster = validators.get('postgresql.cnpg.io/v1 Cluster')!;
    expect(route.ruleCount).toBeGreaterThanOrEqual(52);
    expect(route.cel(find(objects, 'HTTPRoute')).evaluated).toBeGreaterThanOrEqual(20);
    // The Cluster's spec-level rule (imageName vs imageCatalogRef) and initdb's locale rules apply.
    expect(cluster.cel(find(objects, 'Cluster')).evaluated).toBeGreaterThanOrEqual(4);
  });

  run('refuses an HTTPRoute that only CEL can refuse: a path without its leading slash, a filter without its settings', () => {
    const route = structuredClone(find(objects, 'HTTPRoute'));
    const rule = route.spec!.rules![0]! as Record<string, unknown>;
    rule.matches = [{ path: { type: 'PathPrefix', value: 'api' } }];
    rule.filters = [{ type: 'RequestHeaderModifier' }];
    const validator = validators.get(key(route))!;
    expect(validator.schemaErrors(route)).toEqual([]);
    const cel = validator.cel(route);
    expect(cel.violations.map((v) => [v.path, v.rule])).toEqual(
      expect.arrayContaining([
        ['.spec.rules[0].matches[0].path', "(self.type in ['Exact','PathPrefix']) ? self.value.startsWith('/') : true"],
        ['.spec.rules[0].filters[0]', "!(!has(self.requestHeaderModifier) && self.type == 'RequestHeaderModifier')"],
      ]),
    );
  });

  run('refuses a Cluster with two image sources, and counts a rule it cannot run instead of passing it', () => {
    const cluster = structuredClone(find(objects, 'Cluster')) as K8sObject & { spec: Record<string, unknown> };
    cluster.spec.imageName = 'ghcr.io/cloudnative-pg/postgresql:17';
    cluster.spec.imageCatalogRef = { apiGroup: 'postgresql.cnpg.io', kind: 'ImageCatalog', name: 'pg', major: 17 };
    const validator = validators.get(key(cluster))!;
    expect(validator.cel(cluster).violations.map((v) => v.rule)).toContain('!(has(self.imageCatalogRef) && has(self.imageName))');

    const schema = { type: 'object', 'x-kubernetes-validations': [{ rule: 'isURL(self.url)' }, { rule: 'self.url == oldSelf.url' }] };
    const outcome = evaluateCelRules(schema, { url: 'https://example.com' });
    expect(outcome.evaluated).toBe(0);
    expect(outcome.violations).toEqual([]);
    expect(outcome.unevaluated.map((f) => f.rule)).toEqual(['isURL(self.url)']);
    expect(outcome.skipped.map((f) => f.rule)).toEqual(['self.url == oldSelf.url']);
  });
});
