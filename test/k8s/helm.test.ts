import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import Ajv from 'ajv';
import { parse, parseAllDocuments } from 'yaml';
import { CHART_DIR, chartFiles } from '../../k8s/helm';
import { PROJECT_ROOT } from '../../tools/lib/processes';
import { ALLOWED_EXPRESSIONS, renderTemplate } from '../helpers/helm-render';
import { manifests } from '../helpers/manifests';

const dir = join(PROJECT_ROOT, CHART_DIR);
const generated = chartFiles();

function committed(): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else files[relative(dir, join(d, e.name))] = readFileSync(join(d, e.name), 'utf8');
    }
  };
  walk(dir);
  return files;
}

const values = parse(generated['values.yaml']!);
const templates = Object.entries(generated).filter(([f]) => f.startsWith('templates/'));

function render(vals: unknown, namespace = 'rest-api') {
  return templates.flatMap(([, t]) => parseAllDocuments(renderTemplate(t, vals, namespace)).map((d) => d.toJS())).filter((o) => o !== null);
}

describe('the Helm chart', () => {
  it('is committed exactly as `npm run chart` generates it', () => {
    expect(committed()).toEqual(generated);
  });

  it('has a Chart.yaml with the app version', () => {
    expect(parse(generated['Chart.yaml']!)).toEqual({ apiVersion: 'v2', name: 'rest-api', description: expect.any(String), type: 'application', version: '0.1.0', appVersion: '0.1.0' });
  });

  it('has values that its schema accepts, and a schema that rejects bad values', () => {
    const validate = new Ajv({ allErrors: true }).compile(JSON.parse(generated['values.schema.json']!));
    expect(validate(values)).toBe(true);
    expect(Object.keys(values).sort()).toEqual(['grafana', 'image', 'prometheus', 'replicas', 'resources', 'serviceMonitor']);
    for (const bad of [{ ...values, replicas: 1 }, { ...values, image: { ...values.image, pullPolicy: 'Sometimes' } }, { ...values, prometheus: { ...values.prometheus, retention: 'forever' } }, { ...values, extra: 1 }]) {
      expect(validate(bad)).toBe(false);
    }
  });

  it('uses only Helm expressions it means, and escapes every Prometheus template', () => {
    for (const [file, text] of templates) {
      for (const expr of text.match(/\{\{-? (?:"\{\{"|"\}\}"|[^{}])*? -?\}\}/g) ?? []) {
        expect({ file, expr, allowed: ALLOWED_EXPRESSIONS.some((r) => r.test(expr)) }).toEqual({ file, expr, allowed: true });
      }
      // No `{{` left that is neither an expression above nor an escaped brace.
      const stripped = text.replace(/\{\{-? (?:"\{\{"|"\}\}"|[^{}])*? -?\}\}/g, '');
      expect({ file, stray: stripped.includes('{{') || stripped.includes('}}') }).toEqual({ file, stray: false });
    }
    expect(generated['templates/prometheusrule-rest-api.yaml']).toContain('{{ "{{" }} $labels.endpoint {{ "}}" }}');
  });

  it('renders with the default values to exactly the objects `npm run synth` produces (less the Namespace, which Helm creates)', () => {
    expect(render(values)).toEqual(manifests().filter((o) => o.kind !== 'Namespace'));
  });

  it('leaves the dashboard ConfigMap out when grafana.dashboard.enabled is false', () => {
    const kinds = (vals: unknown) => render(vals).map((o) => `${o.kind}/${o.metadata.name}`);
    expect(kinds(values)).toContain('ConfigMap/rest-api-dashboard');
    const off = kinds({ ...values, grafana: { dashboard: { enabled: false } } });
    expect(off).not.toContain('ConfigMap/rest-api-dashboard');
    expect(off.length).toBe(kinds(values).length - 1);
  });

  it('renders install-time values where users expect them', () => {
    const custom = {
      ...values,
      image: { repository: 'registry.example/rest-api', tag: '2.1.0', pullPolicy: 'Always' },
      replicas: 4,
      resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } },
      serviceMonitor: { interval: '30s', scrapeTimeout: '10s' },
      prometheus: { retention: '30d', retentionSize: '40GiB', storage: { size: '50Gi', storageClass: 'fast' } },
    };
    const objects = render(custom, 'shop');
    const deployment = objects.find((o) => o.kind === 'Deployment');
    expect(deployment.metadata.namespace).toBe('shop');
    expect(deployment.spec.replicas).toBe(4);
    expect(deployment.spec.template.spec.containers[0]).toMatchObject({ image: 'registry.example/rest-api:2.1.0', imagePullPolicy: 'Always', resources: custom.resources });
    const prometheus = objects.find((o) => o.kind === 'Prometheus');
    expect(prometheus.spec).toMatchObject({ retention: '30d', retentionSize: '40GiB', scrapeInterval: '30s', scrapeTimeout: '10s' });
    expect(prometheus.spec.storage.volumeClaimTemplate.spec).toMatchObject({ storageClassName: 'fast', resources: { requests: { storage: '50Gi' } } });
    expect(prometheus.spec.serviceMonitorNamespaceSelector.matchLabels['kubernetes.io/metadata.name']).toBe('shop');
    expect(objects.find((o) => o.kind === 'ServiceMonitor').spec.endpoints[0].interval).toBe('30s');
  });
});
