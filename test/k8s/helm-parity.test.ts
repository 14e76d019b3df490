/**
 * The chart against its source and against the synth, with the real helm (v4, .tools/bin/helm):
 * its generated parts are current, values.yaml is the config's defaults with a comment on every
 * key, and for every values file of charts/rest-api/ci/ plus a matrix of thresholds and
 * objectives `helm template` yields the objects the synth makes from the same file (up to the
 * names Helm gives and its labels). Then the properties GitOps and umbrella charts rely on.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { configSchema, SELECTOR_LABEL_KEYS } from '../../k8s/config';
import { CHART_DIR, generatedChartFiles } from '../../k8s/helm';
import { isKind } from '../../k8s/objects';
import type { K8sObject } from '../../k8s/objects';
import { PROJECT_ROOT } from '../../tools/lib/processes';
import { CHART, HAVE_HELM, helm, HELM_HOWTO, helmTemplate, helmTemplateError } from '../helpers/helm';
import { appManifests, find, requireInCi } from '../helpers/manifests';

const dir = join(PROJECT_ROOT, CHART_DIR);
const ci = readdirSync(join(dir, 'ci')).sort();

describe('the generated parts of the chart', () => {
  it.each(Object.entries(generatedChartFiles()))('%s is as `npm run chart` writes it from k8s/', (file, text) => {
    expect(readFileSync(join(dir, file), 'utf8')).toBe(text);
  });
});

/** Every key path of the config schema that is a field of an object of the schema (not inside a pass-through map). */
function schemaPaths(schema: z.ZodType, prefix: string[] = []): string[][] {
  let s = schema as z.ZodType & { def: { type: string; innerType?: z.ZodType; shape?: Record<string, z.ZodType> } };
  while (['default', 'prefault', 'optional', 'pipe'].includes(s.def.type) && s.def.innerType) s = s.def.innerType;
  if (s.def.type !== 'object') return [];
  return Object.entries(s.def.shape!).flatMap(([k, v]) => [[...prefix, k], ...schemaPaths(v, [...prefix, k])]);
}

/** For each key line of a YAML text: its path and whether a comment is right above it. */
function keyComments(text: string): Map<string, boolean> {
  const found = new Map<string, boolean>();
  const stack: { indent: number; key: string }[] = [];
  let previous = '';
  for (const line of text.split('\n')) {
    const m = /^( *)([\w./-]+):/.exec(line);
    if (m) {
      const indent = m[1]!.length;
      while (stack.length > 0 && stack.at(-1)!.indent >= indent) stack.pop();
      stack.push({ indent, key: m[2]! });
      found.set(stack.map((s) => s.key).join('.'), previous.trim().startsWith('#'));
    }
    if (line.trim() !== '') previous = line;
  }
  return found;
}

describe("the chart's values.yaml", () => {
  const text = readFileSync(join(dir, 'values.yaml'), 'utf8');

  it('holds the defaults of the config schema (k8s/config.ts), less what Helm decides', () => {
    const defaults: Record<string, unknown> = configSchema.parse({});
    delete defaults.name;
    delete defaults.namespace;
    expect(parse(text)).toEqual(defaults);
  });

  it('has a comment above every key of the schema it sets', () => {
    const keys = keyComments(text);
    const paths = schemaPaths(configSchema)
      .map((p) => p.join('.'))
      .filter((p) => keys.has(p));
    expect(paths.length).toBeGreaterThan(80);
    expect(paths.filter((p) => !keys.get(p))).toEqual([]);
  });
});

const MATRIX: Record<string, unknown>[] = [
  // The issue's own example: a float threshold, an objective, a switched-off alert.
  { alerts: { highErrorRate: { perSecond: 0.25 }, targetDown: { enabled: false } }, slo: { availability: { objective: 99.5 } } },
  { alerts: { highResponseTime: { quantile: 0.9, seconds: 0.75, minRequestsPerSecond: 2, for: '10m', severity: 'critical' } } },
  { alerts: { highErrorRatio: { ratio: 0.125 }, restarting: { restarts: 10, window: '1h' }, window: '10m' } },
  { slo: { period: '28d', latency: { objective: 95, thresholdSeconds: 0.25 } }, prometheus: { retention: '30d' } },
  { slo: { period: '3d', availability: { objective: 99.99 }, latency: { objective: 99.9, thresholdSeconds: 5 } } },
  { slo: { period: '7d', availability: { objective: 97 } } },
  { slo: { period: '20d12h' }, prometheus: { retention: '21d' } },
  {
    alerts: Object.fromEntries(
      ['highErrorRate', 'targetDown', 'targetMissing', 'notReady', 'restarting'].map((a) => [a, { enabled: false }]),
    ),
  },
  { prometheusRule: { additionalRuleGroups: [{ name: 'own', rules: [{ record: 'own:up:sum', expr: 'sum(up)' }] }] } },
  // The HPA on CPU; KEDA against the cluster's Prometheus with a fractional target.
  { autoscaling: { enabled: true, maxReplicas: 5, targetCPUUtilizationPercentage: 65 } },
  {
    prometheus: { enabled: false },
    alertmanager: { enabled: false },
    autoscaling: { enabled: true, keda: { enabled: true, requestsPerSecondPerPod: 12.5, window: '2m' } },
  },
];

/** An object as both paths describe it: Helm's chart label and managed-by aside. */
function normalize(o: K8sObject): K8sObject {
  const copy = structuredClone(o);
  const spec = copy.spec as { template?: { metadata?: { labels?: Record<string, string> } } } | undefined;
  for (const labels of [copy.metadata?.labels, spec?.template?.metadata?.labels]) {
    if (labels === undefined) continue;
    delete labels['helm.sh/chart'];
    if (labels['app.kubernetes.io/managed-by'] === 'Helm') labels['app.kubernetes.io/managed-by'] = 'cdk8s';
  }
  return copy;
}
const ref = (o: K8sObject) => `${o.kind}/${o.metadata?.name}`;
const byRef = (objects: K8sObject[]) => Object.fromEntries(objects.map((o) => [ref(o), normalize(o)]));

describe('the chart and the synth with the same values', () => {
  requireInCi('the Helm chart tests', HAVE_HELM, HELM_HOWTO);
  const work = mkdtempSync(join(tmpdir(), 'parity-'));
  const cases: [string, Record<string, unknown>][] = [
    ...ci.map((f): [string, Record<string, unknown>] => [
      `ci/${f}`,
      (parse(readFileSync(join(dir, 'ci', f), 'utf8')) ?? {}) as Record<string, unknown>,
    ]),
    ...MATRIX.map((v): [string, Record<string, unknown>] => [JSON.stringify(v), v]),
  ];
  (HAVE_HELM ? it.each(cases) : it.skip.each(cases))('render the same objects: %s', (_name, input) => {
    // Helm names objects after the release (and nameOverride); the synth after `name`. Release
    // and namespace rest-api give both the same names.
    const values = { ...input };
    delete values.nameOverride;
    delete values.fullnameOverride;
    const file = join(work, 'values.yaml');
    writeFileSync(file, stringify(values));
    const chart = helmTemplate('rest-api', 'rest-api', ['--skip-tests', '-f', file]);
    expect(byRef(chart)).toEqual(byRef(appManifests(values)));
  });
});

describe('the chart as GitOps tools and umbrella charts use it', () => {
  const run = HAVE_HELM ? it : it.skip;

  run('renders byte-identical manifests twice from the same values, with no Secret and no password', () => {
    const args = ['template', 'shop', CHART, '-n', 'shop', '-f', join(dir, 'ci', 'everything-values.yaml')];
    const once = helm(args).stdout;
    expect(helm(args).stdout).toBe(once);
    const defaults = helm(['template', 'shop', CHART, '-n', 'shop']).stdout;
    expect(helm(['template', 'shop', CHART, '-n', 'shop']).stdout).toBe(defaults);
    expect(defaults).not.toMatch(/kind: Secret|POSTGRES_PASSWORD: |stringData/);
    expect(readFileSync(join(dir, 'templates', '_helpers.tpl'), 'utf8')).not.toMatch(/\brand|\blookup\b/);
  });

  run('renders as the subchart of an umbrella chart that passes global values', () => {
    const umbrella = mkdtempSync(join(tmpdir(), 'umbrella-'));
    writeFileSync(
      join(umbrella, 'Chart.yaml'),
      stringify({
        apiVersion: 'v2',
        name: 'shop',
        version: '1.0.0',
        dependencies: [{ name: 'rest-api', version: '0.1.0', repository: `file://${CHART}` }],
      }),
    );
    writeFileSync(join(umbrella, 'values.yaml'), stringify({ global: { imageRegistry: 'registry.example' }, 'rest-api': { replicas: 3 } }));
    mkdirSync(join(umbrella, 'templates'));
    const build = helm(['dependency', 'build', umbrella]);
    expect(build.stderr).toBe('');
    const r = helm(['template', 'shop', umbrella, '-n', 'shop']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('name: shop-rest-api');
    expect(r.stdout).toContain('replicas: 3');
  });

  it.each(SELECTOR_LABEL_KEYS.flatMap((key) => ['podLabels', 'commonLabels'].map((at) => [at, key])))(
    'refuses %s setting the selector label %s, naming it',
    (at, key) => {
      if (!HAVE_HELM) return;
      expect(helmTemplateError(['--set', `${at}.${key.replace(/\./g, '\\.')}=web`])).toContain(`${at}.${key}: is a selector label`);
      expect(() => appManifests({ [at]: { [key]: 'web' } })).toThrow(`${at}.${key} = "web": is a selector label`);
    },
  );

  run('sets the storage class of every volume', () => {
    const objects = helmTemplate('rest-api', 'rest-api', [
      '--set',
      'database.postgres.storage.storageClass=a,prometheus.storage.storageClass=b,alertmanager.storage.storageClass=c',
    ]);
    const classes = [
      find(objects, 'StatefulSet').spec!.volumeClaimTemplates![0]!.spec!.storageClassName,
      find(objects, 'Prometheus').spec.storage!.volumeClaimTemplate!.spec!.storageClassName,
      find(objects, 'Alertmanager').spec.storage!.volumeClaimTemplate!.spec!.storageClassName,
    ];
    expect(classes).toEqual(['a', 'b', 'c']);
  });

  it('has no document twice in templates/', () => {
    const docs = readdirSync(join(dir, 'templates'))
      .filter((f) => f.endsWith('.yaml'))
      .flatMap((f) => readFileSync(join(dir, 'templates', f), 'utf8').split(/^---$/m))
      .map((d) => d.trim());
    expect(docs.length - new Set(docs).size).toBe(0);
    for (const d of docs) expect(d.match(/^kind: /gm)?.length ?? 0).toBeLessThanOrEqual(1);
  });

  run('pulls by digest as repository@sha256:…, in the chart and in the synth', () => {
    const digest = `sha256:${'c'.repeat(64)}`;
    const image = (objects: K8sObject[]) => {
      const d = find(objects, 'Deployment');
      return isKind(d, 'Deployment') ? d.spec!.template.spec!.containers[0]!.image : undefined;
    };
    expect(image(helmTemplate('rest-api', 'rest-api', ['--set', `image.digest=${digest}`]))).toBe(`rest-api@${digest}`);
    expect(image(appManifests({ image: { digest } }))).toBe(`rest-api@${digest}`);
  });
});
