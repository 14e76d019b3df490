/**
 * Kubernetes objects as the checks read them (plain JSON, from the synth, a manifest file or
 * the API server), the finding a check reports, and the few facts about objects that several
 * checks share. The shapes of the kinds the checks read come from kubernetes-models and
 * @kubernetes-models/prometheus-operator and @kubernetes-models/keda (types only: nothing of them is loaded at run time).
 */
import type { IDaemonSet, IDeployment, IReplicaSet, IStatefulSet } from 'kubernetes-models/apps/v1' with { 'resolution-mode': 'import' };
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2' with { 'resolution-mode': 'import' };
import type { IJob } from 'kubernetes-models/batch/v1' with { 'resolution-mode': 'import' };
import type { IEndpointSlice } from 'kubernetes-models/discovery.k8s.io/v1' with { 'resolution-mode': 'import' };
import type { IIngress, INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1' with { 'resolution-mode': 'import' };
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1' with { 'resolution-mode': 'import' };
import type { IClusterRole, IClusterRoleBinding, IRole, IRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1' with {
  'resolution-mode': 'import',
};
import type {
  IConfigMap,
  INamespace,
  IPersistentVolumeClaim,
  IPod,
  IPodSpec,
  ISecret,
  IService,
  IServiceAccount,
} from 'kubernetes-models/v1' with { 'resolution-mode': 'import' };
import type {
  IAlertmanager,
  IPrometheus,
  IPrometheusRule,
  IServiceMonitor,
} from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1' with { 'resolution-mode': 'import' };
import type { IScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1' with { 'resolution-mode': 'import' };

/** The fields of a CloudNativePG Cluster (postgresql.cnpg.io/v1) the checks read; no typed model of it is published. */
export interface ICnpgCluster {
  apiVersion: string;
  kind: 'Cluster';
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  spec?: {
    instances?: number;
    inheritedMetadata?: { labels?: Record<string, string> };
    monitoring?: { enablePodMonitor?: boolean };
  };
}

/** The fields of a Gateway API HTTPRoute (gateway.networking.k8s.io/v1) the checks read. */
export interface IHttpRoute {
  apiVersion: string;
  kind: 'HTTPRoute';
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  spec?: {
    parentRefs?: { name: string; namespace?: string; sectionName?: string }[];
    rules?: { backendRefs?: { name: string; namespace?: string; port?: number; group?: string; kind?: string }[] }[];
  };
}

/** Any object: what a manifest file or the API server gives before its kind is checked. */
export interface K8sObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: unknown;
  [key: string]: unknown;
}

/** The shape of each kind the checks, the chart and the tests read. */
export interface KindMap {
  Alertmanager: IAlertmanager;
  Cluster: ICnpgCluster;
  ClusterRole: IClusterRole;
  ClusterRoleBinding: IClusterRoleBinding;
  ConfigMap: IConfigMap;
  DaemonSet: IDaemonSet;
  Deployment: IDeployment;
  EndpointSlice: IEndpointSlice;
  HTTPRoute: IHttpRoute;
  HorizontalPodAutoscaler: IHorizontalPodAutoscaler;
  Ingress: IIngress;
  Job: IJob;
  Namespace: INamespace;
  NetworkPolicy: INetworkPolicy;
  PersistentVolumeClaim: IPersistentVolumeClaim;
  Pod: IPod;
  PodDisruptionBudget: IPodDisruptionBudget;
  Prometheus: IPrometheus;
  PrometheusRule: IPrometheusRule;
  ReplicaSet: IReplicaSet;
  Role: IRole;
  ScaledObject: IScaledObject;
  RoleBinding: IRoleBinding;
  Secret: ISecret;
  Service: IService;
  ServiceAccount: IServiceAccount;
  ServiceMonitor: IServiceMonitor;
  StatefulSet: IStatefulSet;
}

export type Kind = keyof KindMap;

/**
 * An object typed as its kind, as `isKind` and `ofKind` give it: the checks trust that an object
 * of a kind has that kind's shape.
 */
export type Shaped<K extends Kind> = KindMap[K] & K8sObject;

export function isKind<K extends Kind>(o: K8sObject, kind: K): o is Shaped<K> {
  return o.kind === kind;
}

/** The objects of `kind` among `objects`. */
export function ofKind<K extends Kind>(objects: readonly K8sObject[], kind: K): Shaped<K>[] {
  return objects.filter((o): o is Shaped<K> => isKind(o, kind));
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
export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'] as const satisfies readonly Kind[];
export type Workload = Shaped<(typeof WORKLOAD_KINDS)[number]>;

export const isWorkload = (o: K8sObject): o is Workload => (WORKLOAD_KINDS as readonly string[]).includes(o.kind ?? '');

export const ref = (o: K8sObject): string => `${o.kind}/${o.metadata?.namespace ?? '-'}/${o.metadata?.name ?? '?'}`;

/** The namespace of `o`, or the one `kubectl apply -n` would give it. */
export const namespaceOf = (o: K8sObject, fallback: string): string => o.metadata?.namespace ?? fallback;

export interface PodTemplate {
  readonly owner: Workload;
  readonly labels: Record<string, string>;
  readonly spec: IPodSpec;
}

/** Pod templates of the workloads among `objects`. */
export function podTemplates(objects: readonly K8sObject[]): PodTemplate[] {
  return objects
    .filter(isWorkload)
    .map((o) => ({ owner: o, labels: o.spec?.template?.metadata?.labels ?? {}, spec: o.spec?.template?.spec ?? { containers: [] } }));
}

/** Labels of namespace `name`: those of its Namespace object, or the one label the API server always sets. */
export function namespaceLabels(objects: readonly K8sObject[], name: string): Record<string, string> {
  const object = objects.find((o) => o.kind === 'Namespace' && o.metadata?.name === name);
  return { ...(object?.metadata?.labels ?? {}), 'kubernetes.io/metadata.name': name };
}
