/**
 * Wiring checks over a set of manifests (the synth output or any user's copy): the links that,
 * when broken, make Prometheus silently scrape nothing or load no rules. Each finding names the
 * objects, the mismatch and the fix. Plain objects in, so the synth, the tests and `verify`
 * share one implementation.
 */
import { operatorPrometheusPodLabels } from './operator';
import { byteSizeBytes, durationSeconds, quantityBytes } from './units';

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

/** Every wiring check, by id, as a checklist names it when it holds. */
export const WIRING_CHECKS: Readonly<Record<string, string>> = {
  'service-selects-pods': 'Services select the pods of a workload',
  'service-target-port': "Services' target ports exist on the selected containers",
  'workload-selector': 'workload selectors match their pod templates',
  'workload-selector-version': 'workload selectors leave out the version',
  'servicemonitor-selects-service': 'the ServiceMonitor selects a Service',
  'servicemonitor-port': 'the ServiceMonitor scrapes a named port of that Service',
  'scrape-timeout': 'scrapeTimeout is within the scrape interval',
  'servicemonitor-sample-limit': 'the ServiceMonitor limits the samples per scrape',
  'prometheus-selects-servicemonitor': 'a Prometheus selects the ServiceMonitor (labels and namespace)',
  'prometheus-selects-rule': 'a Prometheus selects the PrometheusRule (labels and namespace)',
  'prometheus-retention': 'Prometheus retention is set (not the 24h default)',
  'prometheus-storage': 'Prometheus has a persistent volume',
  'prometheus-retention-size': 'Prometheus retentionSize is safely below the volume',
  'prometheus-security-context': 'Prometheus runs non-root with an fsGroup',
  'prometheus-rbac': 'Prometheus RBAC can list endpoints',
  'pdb-selects-pods': 'PodDisruptionBudgets select pods',
  'networkpolicy-selects-pods': 'NetworkPolicies select pods',
  'networkpolicy-metrics': 'NetworkPolicies let Prometheus reach the metrics port',
};

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/**
 * Kubernetes label-selector semantics. `undefined` (nil) selects nothing here, as the
 * Prometheus Operator treats nil ServiceMonitor/rule selectors; `{}` selects everything.
 */
export function selects(selector: LabelSelector | undefined | null, labels: Record<string, string> = {}): boolean {
  if (selector === undefined || selector === null) return false;
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpressions = (selector.matchExpressions ?? []).every((e) => {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    switch (e.operator) {
      case 'In':
        return has && (e.values ?? []).includes(labels[e.key]!);
      case 'NotIn':
        return !has || !(e.values ?? []).includes(labels[e.key]!);
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
      default:
        return false;
    }
  });
  return byLabels && byExpressions;
}

/** Equality-based selector (Service.spec.selector, a map) against labels; empty selects nothing. */
function mapSelects(selector: Record<string, string> | undefined, labels: Record<string, string> = {}): boolean {
  return selector !== undefined && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);
}

export const ref = (o: K8sObject): string => `${o.kind}/${o.metadata?.namespace ?? '-'}/${o.metadata?.name ?? '?'}`;
const show = (labels: Record<string, string> | undefined): string => JSON.stringify(labels ?? {});
const ns = (o: K8sObject, fallback: string): string => o.metadata?.namespace ?? fallback;

/** Pod templates of workloads, with their namespace. */
function podTemplates(objects: readonly K8sObject[]): { owner: K8sObject; labels: Record<string, string>; spec: any }[] {
  return objects
    .filter((o) => ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'].includes(o.kind ?? ''))
    .map((o) => ({ owner: o, labels: o.spec?.template?.metadata?.labels ?? {}, spec: o.spec?.template?.spec ?? {} }));
}

/** Labels of namespace `name`: those of its Namespace object, or the one label the API server always sets. */
function namespaceLabels(objects: readonly K8sObject[], name: string): Record<string, string> {
  const object = objects.find((o) => o.kind === 'Namespace' && o.metadata?.name === name);
  return { ...(object?.metadata?.labels ?? {}), 'kubernetes.io/metadata.name': name };
}

/**
 * Whether a Prometheus's namespace selector admits `namespace`: nil means the Prometheus's own
 * namespace only; `{}` means all.
 */
function namespaceAdmitted(objects: readonly K8sObject[], prometheus: K8sObject, selector: LabelSelector | undefined, namespace: string, defaultNs: string): boolean {
  if (selector === undefined || selector === null) return namespace === ns(prometheus, defaultNs);
  return selects(selector, namespaceLabels(objects, namespace));
}

const SELECTORS = {
  ServiceMonitor: ['serviceMonitorSelector', 'serviceMonitorNamespaceSelector'],
  PrometheusRule: ['ruleSelector', 'ruleNamespaceSelector'],
} as const;

/** The Prometheuses among `objects` whose selectors (labels and namespace) pick `o`, a ServiceMonitor or PrometheusRule. */
export function prometheusesSelecting(objects: readonly K8sObject[], o: K8sObject, defaultNs = 'default'): K8sObject[] {
  const [selector, nsSelector] = SELECTORS[o.kind as keyof typeof SELECTORS];
  return objects.filter(
    (p) => p.kind === 'Prometheus' && selects(p.spec?.[selector], o.metadata?.labels) && namespaceAdmitted(objects, p, p.spec?.[nsSelector], ns(o, defaultNs), defaultNs),
  );
}

export interface CheckOptions {
  /** Namespace of objects that name none (what `kubectl apply -n` would use). @default default */
  readonly defaultNamespace?: string;
  /**
   * The Prometheus that should select the app runs in the cluster, outside these manifests
   * (kube-prometheus-stack's): with none among the objects, selection is left to `verify`
   * against the cluster instead of failing. @default false
   */
  readonly prometheusInCluster?: boolean;
}

export function checkWiring(objects: readonly K8sObject[], options: CheckOptions = {}): Finding[] {
  const defaultNs = options.defaultNamespace ?? 'default';
  const findings: Finding[] = [];
  const add = (check: string, involved: K8sObject[], message: string, fix: string) =>
    findings.push({ check, objects: involved.map(ref), message, fix });
  const ofKind = (kind: string) => objects.filter((o) => o.kind === kind);
  const services = ofKind('Service');
  const prometheuses = ofKind('Prometheus');
  const pods = podTemplates(objects);
  const selectionUnknown = options.prometheusInCluster === true && prometheuses.length === 0;

  // Services select pods, and their target ports exist on those pods.
  for (const svc of services) {
    const selector = svc.spec?.selector as Record<string, string> | undefined;
    if (selector === undefined || Object.keys(selector).length === 0) continue; // headless/external: no pods expected
    const matched = pods.filter((p) => ns(p.owner, defaultNs) === ns(svc, defaultNs) && mapSelects(selector, p.labels));
    if (matched.length === 0) {
      add('service-selects-pods', [svc], `Service ${svc.metadata?.name} selects ${show(selector)} but no pod template in its namespace has those labels`, 'make spec.selector a subset of the pod template labels of the workload');
      continue;
    }
    for (const port of svc.spec?.ports ?? []) {
      const target = port.targetPort ?? port.port;
      const found = matched.some((p) =>
        (p.spec.containers ?? []).some((ct: any) =>
          (ct.ports ?? []).some((cp: any) => (typeof target === 'string' ? cp.name === target : cp.containerPort === target)),
        ),
      );
      if (!found) add('service-target-port', [svc, matched[0]!.owner], `Service ${svc.metadata?.name} port ${port.name ?? port.port} targets ${target}, which no selected container exposes`, 'point targetPort at a containerPort (by number or name) of the selected pods');
    }
  }

  // Workload selectors are a subset of their own pod labels and leave the version out.
  for (const p of pods) {
    const selector = p.owner.spec?.selector as LabelSelector | undefined;
    if (selector !== undefined && !selects(selector, p.labels)) {
      add('workload-selector', [p.owner], `${p.owner.kind} ${p.owner.metadata?.name} selector ${show(selector.matchLabels)} does not match its pod labels ${show(p.labels)}`, 'make spec.selector a subset of spec.template.metadata.labels');
    }
    if (selector?.matchLabels?.['app.kubernetes.io/version'] !== undefined) {
      add('workload-selector-version', [p.owner], `${p.owner.kind} ${p.owner.metadata?.name} selects on app.kubernetes.io/version: selectors are immutable, so every upgrade would need a delete`, 'drop the version label from spec.selector');
    }
  }

  for (const sm of ofKind('ServiceMonitor')) {
    const smNs = ns(sm, defaultNs);
    const allowedNs: string[] | undefined = sm.spec?.namespaceSelector?.any === true ? undefined : sm.spec?.namespaceSelector?.matchNames ?? [smNs];
    const selected = services.filter((s) => (allowedNs === undefined || allowedNs.includes(ns(s, defaultNs))) && selects(sm.spec?.selector, s.metadata?.labels));
    if (selected.length === 0) {
      add('servicemonitor-selects-service', [sm], `ServiceMonitor ${sm.metadata?.name} selects Services with ${show(sm.spec?.selector?.matchLabels)} in ${allowedNs?.join(', ') ?? 'any namespace'}, and none matches`, `set spec.selector.matchLabels to labels the app's Service carries (${services.map((s) => `${s.metadata?.name}: ${show(s.metadata?.labels)}`).join('; ') || 'no Service found'})`);
    }
    for (const [i, ep] of (sm.spec?.endpoints ?? []).entries()) {
      if (typeof ep.port !== 'string' || ep.port === '') {
        add('servicemonitor-port', [sm], `ServiceMonitor ${sm.metadata?.name} endpoints[${i}] has no named port (port: ${JSON.stringify(ep.port)}${ep.targetPort !== undefined ? `, targetPort: ${JSON.stringify(ep.targetPort)}` : ''})`, 'set endpoints[].port to the name of a Service port, e.g. "metrics"');
      } else {
        for (const s of selected) {
          const names = (s.spec?.ports ?? []).map((p: any) => p.name).filter(Boolean);
          if (!names.includes(ep.port)) add('servicemonitor-port', [sm, s], `ServiceMonitor ${sm.metadata?.name} endpoints[${i}].port is "${ep.port}" but Service ${s.metadata?.name} has ports named ${JSON.stringify(names)}`, `name the Service port "${ep.port}" or change endpoints[${i}].port to one of ${JSON.stringify(names)}`);
        }
      }
      const interval = durationSeconds(ep.interval ?? '30s');
      const timeout = durationSeconds(ep.scrapeTimeout ?? '10s');
      if (interval !== undefined && timeout !== undefined && timeout > interval) {
        add('scrape-timeout', [sm], `ServiceMonitor ${sm.metadata?.name} endpoints[${i}] scrapeTimeout ${ep.scrapeTimeout ?? '10s (default)'} exceeds interval ${ep.interval ?? '30s (default)'}: Prometheus rejects the scrape config`, 'set scrapeTimeout at most equal to interval');
      }
    }
    if (sm.spec?.sampleLimit === undefined) {
      add('servicemonitor-sample-limit', [sm], `ServiceMonitor ${sm.metadata?.name} sets no sampleLimit: a label explosion in the app would flood Prometheus`, 'set spec.sampleLimit (e.g. 5000)');
    }
    if (!selectionUnknown && prometheusesSelecting(objects, sm, defaultNs).length === 0) {
      add('prometheus-selects-servicemonitor', [sm, ...prometheuses], selectionMessage('ServiceMonitor', sm, prometheuses, 'serviceMonitorSelector', 'serviceMonitorNamespaceSelector'), selectionFix(sm, prometheuses, 'serviceMonitorSelector'));
    }
  }

  for (const rule of ofKind('PrometheusRule')) {
    if (!selectionUnknown && prometheusesSelecting(objects, rule, defaultNs).length === 0) {
      add('prometheus-selects-rule', [rule, ...prometheuses], selectionMessage('PrometheusRule', rule, prometheuses, 'ruleSelector', 'ruleNamespaceSelector'), selectionFix(rule, prometheuses, 'ruleSelector'));
    }
  }

  for (const p of prometheuses) {
    const spec = p.spec ?? {};
    const retention = spec.retention === undefined ? undefined : durationSeconds(spec.retention);
    if (retention === undefined) {
      add('prometheus-retention', [p], `Prometheus ${p.metadata?.name} sets no valid retention, so the operator's default of 24h applies`, 'set spec.retention, e.g. 15d');
    }
    const volume = quantityBytes(spec.storage?.volumeClaimTemplate?.spec?.resources?.requests?.storage ?? '');
    if (volume === undefined) {
      add('prometheus-storage', [p], `Prometheus ${p.metadata?.name} has no persistent volume (storage.volumeClaimTemplate): its data is lost with the pod`, 'set spec.storage.volumeClaimTemplate with a storage request');
    } else {
      const size = spec.retentionSize === undefined ? undefined : byteSizeBytes(spec.retentionSize);
      if (size === undefined) {
        add('prometheus-retention-size', [p], `Prometheus ${p.metadata?.name} sets no retentionSize: when ${spec.retention ?? '24h'} of data outgrows the volume, Prometheus fails on a full disk`, 'set spec.retentionSize to about 80% of the volume');
      } else if (size >= volume * 0.95) {
        add('prometheus-retention-size', [p], `Prometheus ${p.metadata?.name} retentionSize ${spec.retentionSize} is not safely below its volume (${spec.storage.volumeClaimTemplate.spec.resources.requests.storage}): the WAL and compaction need headroom`, 'set retentionSize to at most about 80% of the volume size');
      }
    }
    const sc = spec.securityContext ?? {};
    if (sc.fsGroup === undefined || sc.runAsNonRoot !== true) {
      add('prometheus-security-context', [p], `Prometheus ${p.metadata?.name} securityContext lacks ${[sc.fsGroup === undefined && 'fsGroup', sc.runAsNonRoot !== true && 'runAsNonRoot: true'].filter(Boolean).join(' and ')}: the volume may not be writable by the non-root Prometheus user`, 'set spec.securityContext {runAsNonRoot: true, runAsUser: 1000, fsGroup: 2000}');
    }
    findings.push(...checkPrometheusRbac(objects, p, defaultNs));
  }

  // Disruption budgets and network policies must apply to the pods they are written for.
  for (const pdb of ofKind('PodDisruptionBudget')) {
    if (!pods.some((p) => ns(p.owner, defaultNs) === ns(pdb, defaultNs) && selects(pdb.spec?.selector, p.labels))) {
      add('pdb-selects-pods', [pdb], `PodDisruptionBudget ${pdb.metadata?.name} selects ${show(pdb.spec?.selector?.matchLabels)}, which no pod template has`, 'use the workload\'s selector labels');
    }
  }
  for (const np of ofKind('NetworkPolicy')) {
    if (!pods.some((p) => ns(p.owner, defaultNs) === ns(np, defaultNs) && selects(np.spec?.podSelector, p.labels))) {
      add('networkpolicy-selects-pods', [np], `NetworkPolicy ${np.metadata?.name} selects ${show(np.spec?.podSelector?.matchLabels)}, which no pod template has`, 'use the workload\'s selector labels');
    }
  }
  findings.push(...checkMetricsReachable(objects, defaultNs));
  return findings;
}

function selectionMessage(kind: string, o: K8sObject, prometheuses: K8sObject[], selectorKey: string, nsKey: string): string {
  if (prometheuses.length === 0) return `${kind} ${o.metadata?.name} is selected by no Prometheus: there is none in these manifests`;
  const described = prometheuses.map((p) => {
    const sel = p.spec?.[selectorKey];
    return `Prometheus ${p.metadata?.name} selects ${sel === undefined ? 'nothing (nil ' + selectorKey + ')' : show(sel.matchLabels)}${p.spec?.[nsKey] === undefined ? ' in its own namespace' : ` in namespaces matching ${show(p.spec[nsKey].matchLabels)}`}`;
  });
  return `${kind} ${o.metadata?.name} (namespace ${o.metadata?.namespace ?? '-'}) has labels ${show(o.metadata?.labels)}; ${described.join('; ')}`;
}

function selectionFix(o: K8sObject, prometheuses: K8sObject[], selectorKey: string): string {
  const p = prometheuses[0];
  const wanted = p?.spec?.[selectorKey]?.matchLabels as Record<string, string> | undefined;
  if (p === undefined) return 'deploy a Prometheus whose selectors match this object';
  if (wanted === undefined) return `set Prometheus ${p.metadata?.name} spec.${selectorKey} (a nil selector selects nothing)`;
  const missing = Object.entries(wanted).filter(([k, v]) => o.metadata?.labels?.[k] !== v);
  return missing.length > 0
    ? `add label${missing.length > 1 ? 's' : ''} ${missing.map(([k, v]) => `${k}: ${v}`).join(', ')} to ${o.kind} ${o.metadata?.name}`
    : `make the namespace of ${o.kind} ${o.metadata?.name} match Prometheus ${p.metadata?.name}'s namespace selector`;
}

/** The Prometheus ServiceAccount must be allowed to list endpoints (or endpointslices) where it scrapes. */
function checkPrometheusRbac(objects: readonly K8sObject[], p: K8sObject, defaultNs: string): Finding[] {
  const sa = p.spec?.serviceAccountName ?? 'default';
  const pNs = ns(p, defaultNs);
  const boundTo = (b: K8sObject) =>
    ((b as any).subjects ?? []).some((s: any) => s.kind === 'ServiceAccount' && s.name === sa && (s.namespace ?? ns(b, defaultNs)) === pNs);
  const roles = [...objects.filter((o) => o.kind === 'RoleBinding' && ns(o, defaultNs) === pNs), ...objects.filter((o) => o.kind === 'ClusterRoleBinding')]
    .filter(boundTo)
    .map((b) => (b as any).roleRef)
    .map((r: any) => objects.find((o) => o.kind === r?.kind && o.metadata?.name === r?.name && (r.kind === 'ClusterRole' || ns(o, defaultNs) === pNs)))
    .filter((r): r is K8sObject => r !== undefined);
  const grants = (resource: string, group: string) =>
    roles.some((r) =>
      ((r as any).rules ?? []).some(
        (rule: any) =>
          (rule.apiGroups ?? []).some((g: string) => g === group || g === '*') &&
          (rule.resources ?? []).some((x: string) => x === resource || x === '*') &&
          (rule.verbs ?? []).some((v: string) => v === 'list' || v === '*'),
      ),
    );
  if (grants('endpoints', '') || grants('endpointslices', 'discovery.k8s.io')) return [];
  return [
    {
      check: 'prometheus-rbac',
      objects: [ref(p)],
      message: `Prometheus ${p.metadata?.name} runs as ServiceAccount ${sa}, which no Role or ClusterRole in these manifests lets list endpoints or endpointslices: service discovery finds no targets`,
      fix: `bind ServiceAccount ${sa} to a role granting get/list/watch on services, endpoints, endpointslices and pods`,
    },
  ];
}

/** A Prometheus pod as a NetworkPolicy sees it: its labels and its namespace's labels. */
interface PeerPod {
  readonly ns: string;
  readonly labels: Record<string, string>;
  readonly nsLabels: Record<string, string>;
}

/**
 * Whether an ingress rule's `from` admits `pod` into namespace `policyNs` (NetworkPolicyPeer
 * semantics: podSelector alone means the policy's namespace, namespaceSelector alone every pod
 * of the matching namespaces, both together matching pods in matching namespaces). An ipBlock
 * cannot be matched to a pod from manifests, so it admits none here.
 */
export function peerAdmits(from: readonly any[] | undefined, policyNs: string, pod: PeerPod): boolean {
  if (from === undefined || from.length === 0) return true;
  return from.some((peer) => {
    if (peer.podSelector === undefined && peer.namespaceSelector === undefined) return false;
    const nsOk = peer.namespaceSelector === undefined ? pod.ns === policyNs : selects(peer.namespaceSelector, pod.nsLabels);
    const podOk = peer.podSelector === undefined || selects(peer.podSelector, pod.labels);
    return nsOk && podOk;
  });
}

/** The pods of every Prometheus among `objects`, labelled as the operator labels them. */
function prometheusPeerPods(objects: readonly K8sObject[], defaultNs: string): PeerPod[] {
  return objects
    .filter((o) => o.kind === 'Prometheus')
    .map((p) => {
      const pNs = ns(p, defaultNs);
      return { ns: pNs, labels: { ...(p.spec?.podMetadata?.labels ?? {}), ...operatorPrometheusPodLabels(p.metadata?.name ?? '') }, nsLabels: namespaceLabels(objects, pNs) };
    });
}

/**
 * Where a NetworkPolicy isolates the app's pods, the port a ServiceMonitor scrapes must be open
 * to the pods of each Prometheus that selects that ServiceMonitor (in whatever namespace it runs).
 */
function checkMetricsReachable(objects: readonly K8sObject[], defaultNs: string): Finding[] {
  const findings: Finding[] = [];
  for (const sm of objects.filter((o) => o.kind === 'ServiceMonitor')) {
    const scrapers = prometheusPeerPods(prometheusesSelecting(objects, sm, defaultNs), defaultNs);
    if (scrapers.length === 0) continue;
    for (const svc of objects.filter((o) => o.kind === 'Service' && selects(sm.spec?.selector, o.metadata?.labels))) {
      for (const ep of sm.spec?.endpoints ?? []) {
        const port = (svc.spec?.ports ?? []).find((p: any) => p.name === ep.port);
        if (port === undefined) continue;
        const target = port.targetPort ?? port.port;
        const pods = podTemplates(objects).filter((p) => mapSelects(svc.spec?.selector, p.labels));
        for (const pod of pods) {
          const containerPort = (pod.spec.containers ?? []).flatMap((c: any) => c.ports ?? []).find((cp: any) => (typeof target === 'string' ? cp.name === target : cp.containerPort === target));
          const policies = objects.filter((o) => o.kind === 'NetworkPolicy' && ns(o, defaultNs) === ns(pod.owner, defaultNs) && selects(o.spec?.podSelector, pod.labels) && (o.spec?.policyTypes ?? ['Ingress']).includes('Ingress'));
          if (policies.length === 0 || containerPort === undefined) continue;
          for (const scraper of scrapers) {
            const open = policies.some((np) =>
              (np.spec?.ingress ?? []).some((rule: any) => {
                const portOk = (rule.ports ?? []).length === 0 || rule.ports.some((p: any) => p.port === undefined || p.port === containerPort.name || p.port === containerPort.containerPort);
                return portOk && peerAdmits(rule.from, ns(np, defaultNs), scraper);
              }),
            );
            if (!open) {
              findings.push({
                check: 'networkpolicy-metrics',
                objects: [ref(sm), ...policies.map(ref)],
                message: `NetworkPolicy ${policies.map((p) => p.metadata?.name).join(', ')} isolates the pods of ${pod.owner.kind} ${pod.owner.metadata?.name} and does not let the pods of the Prometheus in namespace ${scraper.ns} (${show(scraper.labels)}) reach port ${containerPort.name ?? containerPort.containerPort}, which ServiceMonitor ${sm.metadata?.name} scrapes`,
                fix: `add an ingress peer for port ${containerPort.name ?? containerPort.containerPort} that admits those pods, e.g. {namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ${scraper.ns}}}, podSelector: {matchLabels: {app.kubernetes.io/name: prometheus}}} (networkPolicy.metricsFrom)`,
              });
            }
          }
        }
      }
    }
  }
  return findings;
}
