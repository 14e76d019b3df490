/**
 * Kubernetes objects as the checks read them (plain JSON, from the synth, a manifest file or
 * the API server), the finding a check reports, and the few facts about objects that several
 * checks share.
 */

export interface K8sObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  spec?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  [key: string]: unknown;
}

export interface Finding {
  /** Stable id of the check, e.g. `servicemonitor-port`. */
  readonly check: string;
  /** `Kind/namespace/name` of the objects involved. */
  readonly objects: readonly string[];
  readonly message: string;
  readonly fix: string;
}

/** Kinds whose spec.template is a pod template. */
export const WORKLOAD_KINDS: readonly string[] = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'];

export const ref = (o: K8sObject): string => `${o.kind}/${o.metadata?.namespace ?? '-'}/${o.metadata?.name ?? '?'}`;

/** The namespace of `o`, or the one `kubectl apply -n` would give it. */
export const namespaceOf = (o: K8sObject, fallback: string): string => o.metadata?.namespace ?? fallback;

export interface PodTemplate {
  readonly owner: K8sObject;
  readonly labels: Record<string, string>;
  readonly spec: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Pod templates of the workloads among `objects`. */
export function podTemplates(objects: readonly K8sObject[]): PodTemplate[] {
  return objects
    .filter((o) => WORKLOAD_KINDS.includes(o.kind ?? ''))
    .map((o) => ({ owner: o, labels: o.spec?.template?.metadata?.labels ?? {}, spec: o.spec?.template?.spec ?? {} }));
}

/** Labels of namespace `name`: those of its Namespace object, or the one label the API server always sets. */
export function namespaceLabels(objects: readonly K8sObject[], name: string): Record<string, string> {
  const object = objects.find((o) => o.kind === 'Namespace' && o.metadata?.name === name);
  return { ...(object?.metadata?.labels ?? {}), 'kubernetes.io/metadata.name': name };
}
