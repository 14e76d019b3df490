/**
 * The live half of `verify`: the cluster as it is, read through the kubeconfig, then Prometheus
 * itself through the API server's service proxy (or --prometheus-url).
 */
import type * as k8s from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import { ALERT } from '../../k8s/alerts';
import { prometheusesSelecting } from '../../k8s/checks';
import { ref } from '../../k8s/objects';
import type { Finding, K8sObject } from '../../k8s/checks';
import type { Shaped } from '../../k8s/objects';
import { SLO_ALERT } from '../../k8s/burn-rates';
import { PrometheusApi } from '../lib/prometheus-api';
import type { Checklist } from './checklist';
import { Kube, KubeError } from './kube';
import { addPrometheusChecks } from './prometheus';
import { addWiringChecks, othersPrometheus, PROMETHEUS_CHECKS, SELECTION_CHECKS } from './wiring';

export interface LiveOptions {
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly namespace: string;
  /** App name: Deployment, Service, ServiceMonitor and PrometheusRule, and the job name. */
  readonly name: string;
  readonly prometheusUrl?: string;
}

const MONITORING = '/apis/monitoring.coreos.com/v1';
const CRDS = ['servicemonitors', 'prometheusrules', 'prometheuses'];

const withKind = (kind: string, items: K8sObject[]): K8sObject[] => items.map((o) => ({ ...o, kind }));
const isForbidden = (err: unknown): boolean => err instanceof KubeError && (err.status === 403 || err.status === 401);
const forbidden = (message: string): string => `the API server refused a read (${message}): your kubeconfig user lacks that permission`;

/** Checks the cluster, phase by phase: each phase stops the run when the next has nothing to stand on. */
export async function verifyLive(list: Checklist, o: LiveOptions): Promise<void> {
  const kube = await connect(list, o);
  if (kube === undefined || !(await checkCrds(list, kube))) return;
  await checkWorkload(list, kube, o);
  const sm = await checkMonitoringObjects(list, kube, o);
  const { objects, cannotRun } = await readClusterObjects(kube, o.namespace);
  const selecting = checkWiringLive(list, objects, cannotRun, sm, o.namespace);
  await askPrometheus(list, kube, o, selecting, cannotRun);
}

/** The API server answers through the kubeconfig. */
async function connect(list: Checklist, o: LiveOptions): Promise<Kube | undefined> {
  try {
    const kube = await Kube.connect(o);
    const version = await kube.get<{ gitVersion: string }>('/version');
    list.pass('cluster', `API server answers (context ${kube.context}, ${kube.server}, ${version?.gitVersion ?? 'unknown version'})`);
    return kube;
  } catch (err) {
    list.fail(
      'cluster',
      'API server answers',
      'check the kubeconfig and context (kubectl config current-context), or use --manifests for the offline checks',
      (err as Error).message,
    );
    return undefined;
  }
}

/** The Prometheus Operator's CRDs exist (or cannot be read); false when they are missing. */
async function checkCrds(list: Checklist, kube: Kube): Promise<boolean> {
  const missingCrds: string[] = [];
  let crdsDenied: string | undefined;
  for (const crd of CRDS) {
    try {
      if ((await kube.get(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd}.monitoring.coreos.com`)) === undefined)
        missingCrds.push(crd);
    } catch (err) {
      if (!isForbidden(err)) throw err;
      crdsDenied = (err as Error).message;
      break;
    }
  }
  if (crdsDenied !== undefined) list.skip('crds', 'the Prometheus Operator CRDs are installed', forbidden(crdsDenied));
  else if (missingCrds.length > 0) {
    list.fail(
      'crds',
      'the Prometheus Operator CRDs are installed',
      'install the Prometheus Operator (see README, Deploy to a cluster)',
      `missing: ${missingCrds.map((c) => `${c}.monitoring.coreos.com`).join(', ')}`,
    );
    return false;
  } else list.pass('crds', 'the Prometheus Operator CRDs are installed');
  return true;
}

/** The Deployment is available and its Service has ready endpoints. */
async function checkWorkload(list: Checklist, kube: Kube, o: LiveOptions): Promise<void> {
  const ns = o.namespace;
  const deployment = await kube.get<k8s.V1Deployment>(`/apis/apps/v1/namespaces/${ns}/deployments/${o.name}`);
  if (deployment === undefined) {
    list.fail(
      'deployment',
      `Deployment ${ns}/${o.name} is available`,
      'apply the manifests: npm run synth && kubectl apply --server-side -f dist/',
      'not found',
    );
  } else {
    const available = deployment.status?.availableReplicas ?? 0;
    const wanted = deployment.spec?.replicas ?? 1;
    const line = `${available}/${wanted} replicas available`;
    if (available > 0) list.pass('deployment', `Deployment ${ns}/${o.name} is available`, line);
    else
      list.fail(
        'deployment',
        `Deployment ${ns}/${o.name} is available`,
        `kubectl -n ${ns} describe deploy/${o.name} and the pods' events`,
        line,
      );
  }

  const slices = await kube.list<k8s.V1EndpointSlice>(`/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, {
    labelSelector: `kubernetes.io/service-name=${o.name}`,
  });
  const ready = slices.flatMap((s) => s.endpoints ?? []).filter((e) => e.conditions?.ready !== false);
  if (ready.length > 0)
    list.pass(
      'endpoints',
      `Service ${ns}/${o.name} has ready endpoints`,
      `${ready.length} ready: ${ready.map((e) => e.addresses?.[0]).join(', ')}`,
    );
  else
    list.fail(
      'endpoints',
      `Service ${ns}/${o.name} has ready endpoints`,
      "the Service selects no ready pod: check its selector and the pods' readiness",
      `${slices.length} EndpointSlice(s), no ready endpoint`,
    );
}

/** The ServiceMonitor and the PrometheusRule exist; gives the ServiceMonitor. */
async function checkMonitoringObjects(list: Checklist, kube: Kube, o: LiveOptions): Promise<Shaped<'ServiceMonitor'> | undefined> {
  const ns = o.namespace;
  const sm = await kube.get<Shaped<'ServiceMonitor'>>(`${MONITORING}/namespaces/${ns}/servicemonitors/${o.name}`);
  const rule = await kube.get<Shaped<'PrometheusRule'>>(`${MONITORING}/namespaces/${ns}/prometheusrules/${o.name}`);
  for (const [kind, found] of [
    ['ServiceMonitor', sm],
    ['PrometheusRule', rule],
  ] as const) {
    if (found === undefined)
      list.fail(`${kind.toLowerCase()}-exists`, `${kind} ${ns}/${o.name} exists`, 'apply the manifests', 'not found');
    else list.pass(`${kind.toLowerCase()}-exists`, `${kind} ${ns}/${o.name} exists`);
  }
  return sm;
}

/** What the wiring checks read, and the checks that cannot run because a read was refused. */
async function readClusterObjects(kube: Kube, ns: string): Promise<{ objects: K8sObject[]; cannotRun: Record<string, string> }> {
  // The cluster's objects, as the wiring checks read them. A user whose rights stop at the
  // namespace gets 403 on cluster-wide lists: the checks that need them say so instead of failing.
  const cannotRun: Record<string, string> = {};
  const denied = (checks: readonly string[], err: string) => checks.forEach((id) => (cannotRun[id] ??= forbidden(err)));
  const read = async (kind: string, path: string, needs: readonly string[]): Promise<K8sObject[]> => {
    try {
      return withKind(kind, await kube.list<K8sObject>(path));
    } catch (err) {
      if (!isForbidden(err)) throw err;
      denied(needs, (err as Error).message);
      return [];
    }
  };
  // The checks of a Prometheus's own settings, as the registry lists them.
  const prometheuses = await read('Prometheus', `${MONITORING}/prometheuses`, [...SELECTION_CHECKS, ...PROMETHEUS_CHECKS]);
  const promNamespaces = [...new Set(prometheuses.map((p) => p.metadata?.namespace ?? ns))];
  const objects: K8sObject[] = [
    // Without the Namespace objects, each namespace still has its kubernetes.io/metadata.name label.
    ...(await read('Namespace', '/api/v1/namespaces', [])),
    ...(await read('Service', `/api/v1/namespaces/${ns}/services`, [])),
    ...(await read('Deployment', `/apis/apps/v1/namespaces/${ns}/deployments`, [])),
    ...(await read('StatefulSet', `/apis/apps/v1/namespaces/${ns}/statefulsets`, [])),
    // The API keys Job's pods are what its NetworkPolicy selects.
    ...(await read('Job', `/apis/batch/v1/namespaces/${ns}/jobs`, [])),
    ...(await read('PodDisruptionBudget', `/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets`, [])),
    ...(await read('NetworkPolicy', `/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies`, ['networkpolicy-metrics'])),
    ...(await read('ServiceMonitor', `${MONITORING}/namespaces/${ns}/servicemonitors`, [])),
    ...(await read('PrometheusRule', `${MONITORING}/namespaces/${ns}/prometheusrules`, [])),
    // The operator runs the Alertmanager's pods: the release's own Alertmanager Service selects them.
    ...(await read('Alertmanager', `${MONITORING}/namespaces/${ns}/alertmanagers`, ['service-selects-pods'])),
    ...prometheuses,
    ...(await read('ClusterRole', '/apis/rbac.authorization.k8s.io/v1/clusterroles', ['prometheus-rbac'])),
    ...(await read('ClusterRoleBinding', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', ['prometheus-rbac'])),
  ];
  for (const pns of promNamespaces) {
    objects.push(...(await read('RoleBinding', `/apis/rbac.authorization.k8s.io/v1/namespaces/${pns}/rolebindings`, ['prometheus-rbac'])));
    objects.push(...(await read('Role', `/apis/rbac.authorization.k8s.io/v1/namespaces/${pns}/roles`, ['prometheus-rbac'])));
  }
  return { objects, cannotRun };
}

/** The wiring checks over the cluster's objects; gives the Prometheuses that select the app. */
function checkWiringLive(
  list: Checklist,
  objects: K8sObject[],
  cannotRun: Record<string, string>,
  sm: Shaped<'ServiceMonitor'> | undefined,
  ns: string,
): Shaped<'Prometheus'>[] {
  // Whichever Prometheus selects the app, in any namespace (kube-prometheus-stack's in monitoring).
  const selecting = sm === undefined ? [] : prometheusesSelecting(objects, { ...sm, kind: 'ServiceMonitor' }, ns);
  const selectingRefs = new Set(selecting.map(ref));
  const relevant = (f: Finding) => f.objects.some((r) => r.split('/')[1] === ns || selectingRefs.has(r));
  // The settings of a Prometheus outside the app's namespace are its owners' to change: warn.
  addWiringChecks(list, objects, { relevant, cannotRun, warnOnly: othersPrometheus(ns) });
  return selecting;
}

/** The selecting Prometheus's pods, then Prometheus itself: targets, rules, alerts. */
async function askPrometheus(
  list: Checklist,
  kube: Kube,
  o: LiveOptions,
  selecting: Shaped<'Prometheus'>[],
  cannotRun: Record<string, string>,
): Promise<void> {
  const ns = o.namespace;
  for (const p of selecting) {
    try {
      await checkPrometheusPods(list, kube, p, ns);
    } catch (err) {
      if (!isForbidden(err)) throw err;
      list.skip(
        'prometheus-pods',
        `Prometheus ${p.metadata?.namespace ?? ns}/${p.metadata?.name} pods are ready`,
        forbidden((err as Error).message),
      );
    }
  }

  if (o.prometheusUrl === undefined && selecting.length === 0) {
    const why = cannotRun['prometheus-selects-servicemonitor'];
    if (why !== undefined)
      list.skip('target-up', `Prometheus scrapes job ${o.name}`, `${why}; pass --prometheus-url to ask Prometheus directly`);
    else
      list.fail(
        'target-up',
        `Prometheus scrapes job ${o.name}`,
        'fix the selection above, or pass --prometheus-url',
        'no Prometheus selects the ServiceMonitor, so there is none to ask',
      );
    return;
  }
  const first = selecting[0];
  const api =
    o.prometheusUrl !== undefined
      ? new PrometheusApi(o.prometheusUrl)
      : new PrometheusApi((path, params) =>
          kube.get(`/api/v1/namespaces/${first!.metadata?.namespace ?? ns}/services/prometheus-operated:web/proxy${path}`, params),
        );
  const where = o.prometheusUrl ?? `service proxy ${first!.metadata?.namespace ?? ns}/prometheus-operated:web`;
  try {
    await addPrometheusChecks(list, api, { job: o.name, namespace: ns }, [...Object.values(ALERT), ...Object.values(SLO_ALERT)], where);
  } catch (err) {
    if (!isForbidden(err)) throw err;
    list.skip(
      'target-up',
      `Prometheus scrapes job ${o.name}`,
      `${forbidden((err as Error).message)}; pass --prometheus-url (e.g. with kubectl port-forward)`,
    );
  }
}

/** The selecting Prometheus's pods are ready and its volume bound. */
async function checkPrometheusPods(list: Checklist, kube: Kube, p: Shaped<'Prometheus'>, ns: string): Promise<void> {
  const pns = p.metadata?.namespace ?? ns;
  const pname = p.metadata?.name ?? '';
  const pods = await kube.list<k8s.V1Pod>(`/api/v1/namespaces/${pns}/pods`, { labelSelector: `operator.prometheus.io/name=${pname}` });
  const readyPods = pods.filter((pod) => (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'));
  if (readyPods.length > 0 && readyPods.length === pods.length)
    list.pass('prometheus-pods', `Prometheus ${pns}/${pname} pods are ready`, `${readyPods.length}/${pods.length} ready`);
  else
    list.fail(
      'prometheus-pods',
      `Prometheus ${pns}/${pname} pods are ready`,
      `kubectl -n ${pns} describe pod -l operator.prometheus.io/name=${pname}; kubectl -n ${pns} logs deploy/prometheus-operator`,
      `${readyPods.length}/${pods.length} ready`,
    );
  if (p.spec?.storage?.volumeClaimTemplate !== undefined) {
    const claims = (await kube.list<k8s.V1PersistentVolumeClaim>(`/api/v1/namespaces/${pns}/persistentvolumeclaims`)).filter((c) =>
      new RegExp(`-prometheus-${pname}-\\d+$`).test(c.metadata?.name ?? ''),
    );
    const bound = claims.filter((c) => c.status?.phase === 'Bound');
    if (claims.length > 0 && bound.length === claims.length)
      list.pass(
        'prometheus-pvc',
        `Prometheus ${pns}/${pname} volume is bound`,
        ...claims.map((c) => `${c.metadata?.name}: ${c.status?.phase} (${c.status?.capacity?.storage ?? '?'})`),
      );
    else
      list.fail(
        'prometheus-pvc',
        `Prometheus ${pns}/${pname} volume is bound`,
        'check the storage class and provisioner: kubectl get pvc,storageclass',
        claims.length === 0 ? 'no PersistentVolumeClaim yet' : claims.map((c) => `${c.metadata?.name}: ${c.status?.phase}`).join(', '),
      );
  }
}
