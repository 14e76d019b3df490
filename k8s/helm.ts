/**
 * `npm run chart`: the Helm chart in charts/<name>/, generated from the cdk8s app (one source of
 * truth). The chart's objects are the synth's, with the install-time settings turned into Helm
 * expressions over values.yaml, and Prometheus's own `{{ }}` templates in alert annotations
 * escaped so that Helm renders them literally. Never edit the chart by hand: regenerate it.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Testing } from 'cdk8s';
import { stringify } from 'yaml';
import pkg from '../package.json';
import { RestApiChart } from './chart';
import type { K8sObject } from './checks';
import { resolveConfig } from './config';
import type { DeployConfig } from './config';
import { GRAFANA_DASHBOARD_LABEL } from './constructs/dashboard';

const DASHBOARD_LABEL = Object.keys(GRAFANA_DASHBOARD_LABEL)[0]!;

/** Stand-ins the synth writes where Helm expressions go; none can occur in real output. */
const NAMESPACE_SENTINEL = 'helm-release-namespace';
const REPOSITORY_SENTINEL = 'helm-image-repository';
const TAG_SENTINEL = 'helm-image-tag';
const value = (path: string) => `__HELM_VALUE__${path}__`;
const block = (path: string) => `__HELM_BLOCK__${path}__`;
const optional = (path: string) => `__HELM_OPTIONAL__${path}__`;

export interface ChartValues {
  image: { repository: string; tag: string; pullPolicy: string };
  replicas: number;
  resources: DeployConfig['resources'];
  serviceMonitor: { interval: string; scrapeTimeout: string };
  prometheus: { retention: string; retentionSize: string; storage: { size: string; storageClass: string } };
  grafana: { dashboard: { enabled: boolean } };
}

export function chartValues(c: DeployConfig): ChartValues {
  return {
    image: { ...c.image },
    replicas: c.replicas,
    resources: c.resources,
    serviceMonitor: { interval: c.serviceMonitor.interval, scrapeTimeout: c.serviceMonitor.scrapeTimeout },
    prometheus: {
      retention: c.prometheus.retention,
      retentionSize: c.prometheus.retentionSize,
      storage: { size: c.prometheus.storage.size, storageClass: c.prometheus.storage.storageClass ?? '' },
    },
    grafana: { dashboard: { enabled: c.grafana.dashboard.enabled } },
  };
}

export const VALUES_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'rest-api chart values',
  type: 'object',
  additionalProperties: false,
  required: ['image', 'replicas', 'resources', 'serviceMonitor', 'prometheus', 'grafana'],
  properties: {
    image: {
      type: 'object',
      additionalProperties: false,
      required: ['repository', 'tag', 'pullPolicy'],
      properties: {
        repository: { type: 'string', minLength: 1 },
        tag: { type: 'string', minLength: 1 },
        pullPolicy: { enum: ['Always', 'IfNotPresent', 'Never'] },
      },
    },
    replicas: { type: 'integer', minimum: 2, description: 'at least 2, so a rollout or node drain keeps the API up' },
    resources: {
      type: 'object',
      additionalProperties: false,
      required: ['requests', 'limits'],
      properties: {
        requests: { type: 'object', additionalProperties: false, required: ['cpu', 'memory'], properties: { cpu: { type: 'string' }, memory: { type: 'string' } } },
        limits: { type: 'object', additionalProperties: false, required: ['memory'], properties: { cpu: { type: 'string' }, memory: { type: 'string' } } },
      },
    },
    serviceMonitor: {
      type: 'object',
      additionalProperties: false,
      required: ['interval', 'scrapeTimeout'],
      properties: {
        interval: { type: 'string', pattern: '^([0-9]+(ms|s|m|h))+$' },
        scrapeTimeout: { type: 'string', pattern: '^([0-9]+(ms|s|m|h))+$', description: 'must not exceed interval' },
      },
    },
    prometheus: {
      type: 'object',
      additionalProperties: false,
      required: ['retention', 'retentionSize', 'storage'],
      properties: {
        retention: { type: 'string', pattern: '^([0-9]+(ms|s|m|h|d|w|y))+$' },
        retentionSize: { type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?([KMGTPE]i?)?B$', description: 'keep it about 80% of storage.size' },
        storage: {
          type: 'object',
          additionalProperties: false,
          required: ['size', 'storageClass'],
          properties: {
            size: { type: 'string', pattern: '^[0-9]+(Ki|Mi|Gi|Ti)$' },
            storageClass: { type: 'string', description: 'empty: the cluster default' },
          },
        },
      },
    },
    grafana: {
      type: 'object',
      additionalProperties: false,
      required: ['dashboard'],
      properties: {
        dashboard: {
          type: 'object',
          additionalProperties: false,
          required: ['enabled'],
          properties: { enabled: { type: 'boolean', description: 'ship the dashboard ConfigMap that the Grafana sidecar loads' } },
        },
      },
    },
  },
} as const;

/** Puts placeholders where values.yaml decides, on the synthesized objects. */
function placeholders(objects: K8sObject[]): void {
  for (const o of objects) {
    const spec = o.spec;
    if (o.kind === 'Deployment') {
      spec.replicas = value('replicas');
      const api = spec.template.spec.containers[0];
      api.imagePullPolicy = value('image.pullPolicy');
      api.resources = block('resources');
    }
    if (o.kind === 'ServiceMonitor') {
      for (const ep of spec.endpoints) {
        ep.interval = value('serviceMonitor.interval');
        ep.scrapeTimeout = value('serviceMonitor.scrapeTimeout');
      }
    }
    if (o.kind === 'Prometheus') {
      spec.scrapeInterval = value('serviceMonitor.interval');
      spec.scrapeTimeout = value('serviceMonitor.scrapeTimeout');
      spec.retention = value('prometheus.retention');
      spec.retentionSize = value('prometheus.retentionSize');
      const claim = spec.storage.volumeClaimTemplate.spec;
      claim.resources.requests.storage = value('prometheus.storage.size');
      claim.storageClassName = optional('prometheus.storage.storageClass');
    }
  }
}

/** Prometheus templates (`{{ $labels.x }}`) become Helm string literals that print them as they are. */
export function escapeBraces(text: string): string {
  return text.replace(/\{\{|\}\}/g, (b) => (b === '{{' ? '{{ "{{" }}' : '{{ "}}" }}'));
}

function helmize(yaml: string): string {
  return escapeBraces(yaml)
    .replace(/^(\s*)([\w.-]+): (["']?)__HELM_BLOCK__([\w.]+)__\3$/gm, (_m, indent: string, key: string, _q, path: string) => `${indent}${key}:\n${indent}  {{- toYaml .Values.${path} | nindent ${indent.length + 2} }}`)
    .replace(/^(\s*)([\w.-]+): (["']?)__HELM_OPTIONAL__([\w.]+)__\3$/gm, (_m, indent: string, key: string, _q, path: string) => `${indent}{{- with .Values.${path} }}\n${indent}${key}: {{ . | quote }}\n${indent}{{- end }}`)
    .replace(/(["']?)__HELM_VALUE__replicas__\1/g, '{{ .Values.replicas }}')
    .replace(/(["']?)__HELM_VALUE__([\w.]+)__\1/g, (_m, _q, path: string) => `{{ .Values.${path} | quote }}`)
    .replace(new RegExp(`(["']?)${REPOSITORY_SENTINEL}:${TAG_SENTINEL}\\1`, 'g'), '"{{ .Values.image.repository }}:{{ .Values.image.tag }}"')
    .replace(new RegExp(`(["']?)${TAG_SENTINEL}\\1$`, 'gm'), '{{ .Values.image.tag | quote }}')
    .replaceAll(NAMESPACE_SENTINEL, '{{ .Release.Namespace }}');
}

/** The chart's files, by path relative to charts/<name>/. */
export function chartFiles(): Record<string, string> {
  const defaults = resolveConfig({});
  const config = resolveConfig({ namespace: NAMESPACE_SENTINEL, image: { repository: REPOSITORY_SENTINEL, tag: TAG_SENTINEL } });
  const objects = Testing.synth(new RestApiChart(Testing.app(), config.name, config)) as K8sObject[];
  placeholders(objects);
  const header = '# Generated by `npm run chart` from k8s/: do not edit, regenerate.\n';
  const files: Record<string, string> = {
    'Chart.yaml': header + stringify({ apiVersion: 'v2', name: defaults.name, description: pkg.description, type: 'application', version: pkg.version, appVersion: pkg.version }),
    'values.yaml': header + stringify(chartValues(defaults)),
    'values.schema.json': `${JSON.stringify(VALUES_SCHEMA, null, 2)}\n`,
  };
  // The release namespace is Helm's (helm install -n NS --create-namespace), so no Namespace object.
  for (const o of objects.filter((x) => x.kind !== 'Namespace')) {
    const file = `templates/${o.kind!.toLowerCase()}-${o.metadata!.name!.replace(NAMESPACE_SENTINEL, 'ns')}.yaml`;
    const text = helmize(stringify(o, { lineWidth: 0 }));
    // Objects an install can switch off, by the value that does.
    const switchedBy = o.kind === 'ConfigMap' && o.metadata?.labels?.[DASHBOARD_LABEL] !== undefined ? 'grafana.dashboard.enabled' : undefined;
    files[file] = header + (switchedBy === undefined ? text : `{{- if .Values.${switchedBy} }}\n${text}{{- end }}\n`);
  }
  return files;
}

export const CHART_DIR = join('charts', 'rest-api');

if (require.main === module) {
  rmSync(CHART_DIR, { recursive: true, force: true });
  const files = chartFiles();
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(join(CHART_DIR, file, '..'), { recursive: true });
    writeFileSync(join(CHART_DIR, file), text);
  }
  process.stdout.write(`wrote ${Object.keys(files).length} files to ${CHART_DIR}/\n`);
}
