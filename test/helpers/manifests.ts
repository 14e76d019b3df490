/** Synthesizes the chart in memory for assertions, from a config as a user would write it. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Testing } from 'cdk8s';
import { NamespaceChart, RestApiChart } from '../../k8s/chart';
import { ofKind } from '../../k8s/objects';
import type { K8sObject, Kind, Shaped } from '../../k8s/objects';
import { resolveConfig } from '../../k8s/config';

/** The app's objects (dist/<name>.yaml), without the Namespace. */
export function appManifests(configInput: unknown = {}): K8sObject[] {
  const config = resolveConfig(configInput);
  return Testing.synth(new RestApiChart(Testing.app(), config.name, config)) as K8sObject[];
}

/** Everything the synth writes: the Namespace, then the app's objects. */
export function manifests(configInput: unknown = {}): K8sObject[] {
  const config = resolveConfig(configInput);
  return [...(Testing.synth(new NamespaceChart(Testing.app(), config.namespace, config)) as K8sObject[]), ...appManifests(configInput)];
}

/** kube-prometheus-stack 88.5.3 rendered as release kps in namespace monitoring (../shared/fixtures). */
export const KPS_FIXTURE = join(
  __dirname,
  '..',
  '..',
  '..',
  'shared',
  'fixtures',
  'kube-prometheus-stack-88.5.3',
  'rendered-release-kps.yaml',
);
export const HAVE_KPS_FIXTURE = existsSync(KPS_FIXTURE);

/** The chart's scale-out values file (KEDA, Prometheus replicas, Thanos), read by the synth too. */
export const SCALE_OUT_VALUES_FILE = join(__dirname, '..', '..', 'charts', 'rest-api', 'ci', 'scale-out-values.yaml');

/** The values file for installing next to kube-prometheus-stack, as users pass it. */
export const KPS_VALUES_FILE = join(__dirname, '..', '..', 'k8s', 'values', 'kube-prometheus-stack.yaml');

/** The object of `kind` (named `name`) among `objects`, typed as its kind; throws when there is none. */
export function find<K extends Kind>(objects: readonly K8sObject[], kind: K, name?: string): Shaped<K> {
  const found = ofKind(objects, kind).find((o) => name === undefined || o.metadata?.name === name);
  if (found === undefined) throw new Error(`no ${kind}${name ? ` ${name}` : ''} in the manifests`);
  return found;
}

/** A deep copy, for making broken variants. */
export function clone<T>(value: T): T {
  return structuredClone(value);
}

/** ../shared/schemas beside the project: present in CI, maybe absent in a user's clone. */
export const SHARED_SCHEMAS = join(__dirname, '..', '..', '..', 'shared', 'schemas');
export const HAVE_SHARED_SCHEMAS = existsSync(SHARED_SCHEMAS);

/** Says loudly that a suite could not run here; in CI that is a failure. */
export function requireInCi(what: string, available: boolean, howToGet: string): void {
  if (available) return;
  if (process.env.CI) throw new Error(`CI must run ${what}: ${howToGet}`);
  process.stderr.write(`\n*** SKIPPED: ${what} (${howToGet}) ***\n\n`);
}

/** Deploy-config keys for end-to-end tests: Prometheus scrapes and evaluates every second. */
export const FAST_SCRAPES = {
  serviceMonitor: { interval: '1s', scrapeTimeout: '1s' },
  prometheus: { evaluationInterval: '1s' },
} as const;
