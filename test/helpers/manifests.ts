/** Synthesizes the chart in memory for assertions, from a config as a user would write it. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Testing } from 'cdk8s';
import { RestApiChart } from '../../k8s/chart';
import type { K8sObject } from '../../k8s/checks';
import { resolveConfig } from '../../k8s/config';

export function manifests(configInput: unknown = {}): K8sObject[] {
  const config = resolveConfig(configInput);
  return Testing.synth(new RestApiChart(Testing.app(), config.name, config)) as K8sObject[];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function find(objects: readonly K8sObject[], kind: string, name?: string): any {
  const found = objects.find((o) => o.kind === kind && (name === undefined || o.metadata?.name === name));
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
