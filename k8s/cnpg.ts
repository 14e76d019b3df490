/**
 * What the CloudNativePG operator (v1.30) adds at run time, which manifests do not show: the
 * labels of the instance pods it creates for a Cluster (they inherit spec.inheritedMetadata's,
 * pkg/specs/pods.go) and the ports they serve. The NetworkPolicies, the wiring checks and the
 * tests read them from here.
 */

export const CNPG_API_VERSION = 'postgresql.cnpg.io/v1';

/** The labels by which the instances of Cluster `name` are told apart from any other pod (whatever their role). */
export function cnpgInstanceSelector(name: string): Record<string, string> {
  return { 'cnpg.io/cluster': name };
}

/** Every label the operator puts on the instance pods of Cluster `name`, after the inherited ones. */
export function cnpgPodLabels(name: string, inherited: Record<string, string> = {}): Record<string, string> {
  return { ...inherited, ...cnpgInstanceSelector(name), 'cnpg.io/podRole': 'instance' };
}

/** PostgreSQL, the instance manager (status, probes; the operator calls it) and the metrics exporter. */
export const CNPG_PORTS = { postgres: 5432, instanceManager: 8000, metrics: 9187 } as const;
