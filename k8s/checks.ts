/**
 * Wiring checks over a set of manifests (the synth output, a user's copy, or what the API server
 * holds): the links that, when broken, make Prometheus silently scrape nothing or load no rules.
 * Each check is a value in one registry, WIRING_CHECKS; each finding names the objects, the
 * mismatch and the fix. Plain objects in, so the synth, the tests and `verify` share them.
 */
import { mapSelects, peerAdmits, selects } from './label-selectors';
import type { LabelSelector, PeerPod } from './label-selectors';
import { policyTypes } from './network-paths';
import { isKind, namespaceLabels, namespaceOf, ofKind, podTemplates, ref, WORKLOAD_KINDS } from './objects';
import type { Finding, K8sObject, Kind, PodTemplate, Shaped } from './objects';
import { operatorAlertmanagerPodLabels, operatorPrometheusPodLabels } from './operator';
import { byteSizeBytes, durationSeconds, quantityBytes } from './units';

export type { Finding, K8sObject } from './objects';

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

/** What every check reads: the objects, and what several checks derive from them. */
export interface CheckContext {
  readonly objects: readonly K8sObject[];
  readonly defaultNs: string;
  readonly pods: readonly PodTemplate[];
  /** Every pod the objects make run: the workloads' and those the Prometheus Operator creates. */
  readonly runningPods: readonly RunningPod[];
  readonly prometheuses: readonly Shaped<'Prometheus'>[];
  /** No Prometheus in view, and one is expected in the cluster: selection cannot be judged. */
  readonly selectionUnknown: boolean;
  ofKind<K extends Kind>(kind: K): Shaped<K>[];
  ns(o: K8sObject): string;
}

export interface WiringCheck {
  /** Stable id, e.g. `servicemonitor-port`: findings and checklist items carry it. */
  readonly id: string;
  /** What holds when the check passes, as a checklist prints it. */
  readonly title: string;
  /** The kinds it is about: it has something to say when one of them is present. */
  readonly kinds: readonly Kind[];
  readonly run: (ctx: CheckContext) => Finding[];
}

/** A pod as the objects make it run, by its owner and its labels. */
export interface RunningPod {
  readonly owner: K8sObject;
  readonly labels: Record<string, string>;
}

/**
 * The workloads' pods and those the Prometheus Operator creates for each Prometheus and
 * Alertmanager: podMetadata's labels, then the operator's own on top (it overrides them).
 */
export function runningPods(objects: readonly K8sObject[]): RunningPod[] {
  const operated = (o: Shaped<'Prometheus'> | Shaped<'Alertmanager'>, own: Record<string, string>): RunningPod => ({
    owner: o,
    labels: { ...(o.spec?.podMetadata?.labels ?? {}), ...own },
  });
  return [
    ...podTemplates(objects).map((p) => ({ owner: p.owner, labels: p.labels })),
    ...ofKind(objects, 'Prometheus').map((o) => operated(o, operatorPrometheusPodLabels(o.metadata?.name ?? ''))),
    ...ofKind(objects, 'Alertmanager').map((o) => operated(o, operatorAlertmanagerPodLabels(o.metadata?.name ?? ''))),
  ];
}

const show = (labels: Record<string, string> | undefined): string => JSON.stringify(labels ?? {});
const finding = (check: string, involved: readonly K8sObject[], message: string, fix: string): Finding => ({
  check,
  objects: involved.map(ref),
  message,
  fix,
});

/**
 * Whether a Prometheus's namespace selector admits `namespace`: nil means the Prometheus's own
 * namespace only; `{}` means all.
 */
function namespaceAdmitted(
  objects: readonly K8sObject[],
  prometheus: K8sObject,
  selector: LabelSelector | null | undefined,
  namespace: string,
  defaultNs: string,
): boolean {
  if (selector === undefined || selector === null) return namespace === namespaceOf(prometheus, defaultNs);
  return selects(selector, namespaceLabels(objects, namespace));
}

/** The Prometheus fields (label selector, namespace selector) that pick each selected kind. */
const SELECTORS = {
  ServiceMonitor: ['serviceMonitorSelector', 'serviceMonitorNamespaceSelector'],
  PrometheusRule: ['ruleSelector', 'ruleNamespaceSelector'],
} as const;
type Selected = keyof typeof SELECTORS;
type SelectorKey = (typeof SELECTORS)[Selected][number];

const selectorsFor = (o: K8sObject): (typeof SELECTORS)[Selected] => {
  if (isKind(o, 'ServiceMonitor')) return SELECTORS.ServiceMonitor;
  if (isKind(o, 'PrometheusRule')) return SELECTORS.PrometheusRule;
  throw new Error(`${ref(o)}: only a ServiceMonitor or a PrometheusRule is selected by a Prometheus`);
};

/** The Prometheuses among `objects` whose selectors (labels and namespace) pick `o`, a ServiceMonitor or PrometheusRule. */
export function prometheusesSelecting(objects: readonly K8sObject[], o: K8sObject, defaultNs = 'default'): Shaped<'Prometheus'>[] {
  const [selector, nsSelector] = selectorsFor(o);
  return ofKind(objects, 'Prometheus').filter(
    (p) =>
      selects(p.spec?.[selector], o.metadata?.labels) &&
      namespaceAdmitted(objects, p, p.spec?.[nsSelector], namespaceOf(o, defaultNs), defaultNs),
  );
}

/**
 * The pods the operator runs for each Alertmanager, as it labels them, with the web port: no
 * manifest has their template, and a Service may select them.
 */
function alertmanagerPods(objects: readonly K8sObject[]): PodTemplate[] {
  return ofKind(objects, 'Alertmanager').map((am) => ({
    // Not a workload kind, but the owner that names the pods in findings.
    owner: am as unknown as PodTemplate['owner'],
    labels: operatorAlertmanagerPodLabels(am.metadata?.name ?? ''),
    spec: { containers: [{ name: 'alertmanager', ports: [{ name: 'web', containerPort: 9093 }] }] },
  }));
}

/** The pods a Service selects, in its namespace: of the workloads, or run by the operator. */
function podsOf(ctx: CheckContext, svc: Shaped<'Service'>): PodTemplate[] {
  return [...ctx.pods, ...alertmanagerPods(ctx.objects)].filter(
    (p) => ctx.ns(p.owner) === ctx.ns(svc) && mapSelects(svc.spec?.selector, p.labels),
  );
}

/** Services with a selector (headless and external ones expect no pods). */
const selectingServices = (ctx: CheckContext) => ctx.ofKind('Service').filter((s) => Object.keys(s.spec?.selector ?? {}).length > 0);

/** The Services a ServiceMonitor picks, in the namespaces it looks in. */
function servicesOf(ctx: CheckContext, sm: Shaped<'ServiceMonitor'>): { allowedNs: string[] | undefined; selected: Shaped<'Service'>[] } {
  const allowedNs: string[] | undefined =
    sm.spec?.namespaceSelector?.any === true ? undefined : (sm.spec?.namespaceSelector?.matchNames ?? [ctx.ns(sm)]);
  const selected = ctx
    .ofKind('Service')
    .filter((s) => (allowedNs === undefined || allowedNs.includes(ctx.ns(s))) && selects(sm.spec?.selector, s.metadata?.labels));
  return { allowedNs, selected };
}

type Endpoint = Shaped<'ServiceMonitor'>['spec']['endpoints'][number];
const endpointsOf = (sm: Shaped<'ServiceMonitor'>): [number, Endpoint][] => [...(sm.spec?.endpoints ?? []).entries()];

/** Every wiring check, in the order a checklist prints them. */
export const WIRING_CHECKS: readonly WiringCheck[] = [
  {
    id: 'service-selects-pods',
    title: 'Services select the pods of a workload',
    kinds: ['Service'],
    run: (ctx) =>
      selectingServices(ctx)
        .filter((svc) => podsOf(ctx, svc).length === 0)
        .map((svc) =>
          finding(
            'service-selects-pods',
            [svc],
            `Service ${svc.metadata?.name} selects ${show(svc.spec?.selector)} but no pod template in its namespace has those labels`,
            'make spec.selector a subset of the pod template labels of the workload',
          ),
        ),
  },
  {
    id: 'service-target-port',
    title: "Services' target ports exist on the selected containers",
    kinds: ['Service'],
    run: (ctx) =>
      selectingServices(ctx).flatMap((svc) => {
        const matched = podsOf(ctx, svc);
        if (matched.length === 0) return []; // service-selects-pods reports it
        return (svc.spec?.ports ?? [])
          .filter((port) => {
            const target = port.targetPort ?? port.port;
            return !matched.some((p) =>
              (p.spec.containers ?? []).some((ct) =>
                (ct.ports ?? []).some((cp) => (typeof target === 'string' ? cp.name === target : cp.containerPort === target)),
              ),
            );
          })
          .map((port) =>
            finding(
              'service-target-port',
              [svc, matched[0]!.owner],
              `Service ${svc.metadata?.name} port ${port.name ?? port.port} targets ${port.targetPort ?? port.port}, which no selected container exposes`,
              'point targetPort at a containerPort (by number or name) of the selected pods',
            ),
          );
      }),
  },
  {
    id: 'workload-selector',
    title: 'workload selectors match their pod templates',
    kinds: WORKLOAD_KINDS,
    run: (ctx) =>
      ctx.pods
        .filter((p) => p.owner.spec?.selector !== undefined && !selects(p.owner.spec.selector, p.labels))
        .map((p) =>
          finding(
            'workload-selector',
            [p.owner],
            `${p.owner.kind} ${p.owner.metadata?.name} selector ${show(p.owner.spec?.selector?.matchLabels)} does not match its pod labels ${show(p.labels)}`,
            'make spec.selector a subset of spec.template.metadata.labels',
          ),
        ),
  },
  {
    id: 'workload-selector-version',
    title: 'workload selectors leave out the version',
    kinds: WORKLOAD_KINDS,
    run: (ctx) =>
      ctx.pods
        .filter((p) => p.owner.spec?.selector?.matchLabels?.['app.kubernetes.io/version'] !== undefined)
        .map((p) =>
          finding(
            'workload-selector-version',
            [p.owner],
            `${p.owner.kind} ${p.owner.metadata?.name} selects on app.kubernetes.io/version: selectors are immutable, so every upgrade would need a delete`,
            'drop the version label from spec.selector',
          ),
        ),
  },
  {
    id: 'servicemonitor-selects-service',
    title: 'the ServiceMonitor selects a Service',
    kinds: ['ServiceMonitor'],
    run: (ctx) =>
      ctx.ofKind('ServiceMonitor').flatMap((sm) => {
        const { allowedNs, selected } = servicesOf(ctx, sm);
        if (selected.length > 0) return [];
        const services = ctx.ofKind('Service');
        return [
          finding(
            'servicemonitor-selects-service',
            [sm],
            `ServiceMonitor ${sm.metadata?.name} selects Services with ${show(sm.spec?.selector?.matchLabels)} in ${allowedNs?.join(', ') ?? 'any namespace'}, and none matches`,
            `set spec.selector.matchLabels to labels the app's Service carries (${services.map((s) => `${s.metadata?.name}: ${show(s.metadata?.labels)}`).join('; ') || 'no Service found'})`,
          ),
        ];
      }),
  },
  {
    id: 'servicemonitor-port',
    title: 'the ServiceMonitor scrapes a named port of that Service',
    kinds: ['ServiceMonitor'],
    run: (ctx) =>
      ctx.ofKind('ServiceMonitor').flatMap((sm) =>
        endpointsOf(sm).flatMap(([i, ep]) => {
          if (typeof ep.port !== 'string' || ep.port === '') {
            return [
              finding(
                'servicemonitor-port',
                [sm],
                `ServiceMonitor ${sm.metadata?.name} endpoints[${i}] has no named port (port: ${JSON.stringify(ep.port)}${ep.targetPort !== undefined ? `, targetPort: ${JSON.stringify(ep.targetPort)}` : ''})`,
                'set endpoints[].port to the name of a Service port, e.g. "metrics"',
              ),
            ];
          }
          return servicesOf(ctx, sm).selected.flatMap((s) => {
            const names = (s.spec?.ports ?? []).map((p) => p.name).filter(Boolean);
            return names.includes(ep.port)
              ? []
              : [
                  finding(
                    'servicemonitor-port',
                    [sm, s],
                    `ServiceMonitor ${sm.metadata?.name} endpoints[${i}].port is "${ep.port}" but Service ${s.metadata?.name} has ports named ${JSON.stringify(names)}`,
                    `name the Service port "${ep.port}" or change endpoints[${i}].port to one of ${JSON.stringify(names)}`,
                  ),
                ];
          });
        }),
      ),
  },
  {
    id: 'scrape-timeout',
    title: 'scrapeTimeout is within the scrape interval',
    kinds: ['ServiceMonitor'],
    run: (ctx) =>
      ctx.ofKind('ServiceMonitor').flatMap((sm) =>
        endpointsOf(sm)
          .filter(([, ep]) => {
            const interval = durationSeconds(ep.interval ?? '30s');
            const timeout = durationSeconds(ep.scrapeTimeout ?? '10s');
            return interval !== undefined && timeout !== undefined && timeout > interval;
          })
          .map(([i, ep]) =>
            finding(
              'scrape-timeout',
              [sm],
              `ServiceMonitor ${sm.metadata?.name} endpoints[${i}] scrapeTimeout ${ep.scrapeTimeout ?? '10s (default)'} exceeds interval ${ep.interval ?? '30s (default)'}: Prometheus rejects the scrape config`,
              'set scrapeTimeout at most equal to interval',
            ),
          ),
      ),
  },
  {
    id: 'servicemonitor-sample-limit',
    title: 'the ServiceMonitor limits the samples per scrape',
    kinds: ['ServiceMonitor'],
    run: (ctx) =>
      ctx
        .ofKind('ServiceMonitor')
        .filter((sm) => sm.spec?.sampleLimit === undefined)
        .map((sm) =>
          finding(
            'servicemonitor-sample-limit',
            [sm],
            `ServiceMonitor ${sm.metadata?.name} sets no sampleLimit: a label explosion in the app would flood Prometheus`,
            'set spec.sampleLimit (e.g. 5000)',
          ),
        ),
  },
  {
    id: 'prometheus-selects-servicemonitor',
    title: 'a Prometheus selects the ServiceMonitor (labels and namespace)',
    kinds: ['ServiceMonitor'],
    run: (ctx) =>
      unselected(ctx, 'ServiceMonitor', 'prometheus-selects-servicemonitor', 'serviceMonitorSelector', 'serviceMonitorNamespaceSelector'),
  },
  {
    id: 'prometheus-selects-rule',
    title: 'a Prometheus selects the PrometheusRule (labels and namespace)',
    kinds: ['PrometheusRule'],
    run: (ctx) => unselected(ctx, 'PrometheusRule', 'prometheus-selects-rule', 'ruleSelector', 'ruleNamespaceSelector'),
  },
  {
    id: 'prometheus-retention',
    title: 'Prometheus retention is set (not the 24h default)',
    kinds: ['Prometheus'],
    run: (ctx) =>
      ctx.prometheuses
        .filter((p) => p.spec?.retention === undefined || durationSeconds(p.spec.retention) === undefined)
        .map((p) =>
          finding(
            'prometheus-retention',
            [p],
            `Prometheus ${p.metadata?.name} sets no valid retention, so the operator's default of 24h applies`,
            'set spec.retention, e.g. 15d',
          ),
        ),
  },
  {
    id: 'prometheus-storage',
    title: 'Prometheus has a persistent volume',
    kinds: ['Prometheus'],
    run: (ctx) =>
      ctx.prometheuses
        .filter((p) => volumeBytes(p) === undefined)
        .map((p) =>
          finding(
            'prometheus-storage',
            [p],
            `Prometheus ${p.metadata?.name} has no persistent volume (storage.volumeClaimTemplate): its data is lost with the pod`,
            'set spec.storage.volumeClaimTemplate with a storage request',
          ),
        ),
  },
  {
    id: 'prometheus-retention-size',
    title: 'Prometheus retentionSize is safely below the volume',
    kinds: ['Prometheus'],
    run: (ctx) =>
      ctx.prometheuses.flatMap((p) => {
        const volume = volumeBytes(p);
        if (volume === undefined) return []; // prometheus-storage reports it
        const spec = p.spec;
        const size = spec.retentionSize === undefined ? undefined : byteSizeBytes(spec.retentionSize);
        if (size === undefined) {
          return [
            finding(
              'prometheus-retention-size',
              [p],
              `Prometheus ${p.metadata?.name} sets no retentionSize: when ${spec.retention ?? '24h'} of data outgrows the volume, Prometheus fails on a full disk`,
              'set spec.retentionSize to about 80% of the volume',
            ),
          ];
        }
        if (size < volume * 0.95) return [];
        return [
          finding(
            'prometheus-retention-size',
            [p],
            `Prometheus ${p.metadata?.name} retentionSize ${spec.retentionSize} is not safely below its volume (${volumeRequest(p)}): the WAL and compaction need headroom`,
            'set retentionSize to at most about 80% of the volume size',
          ),
        ];
      }),
  },
  {
    id: 'prometheus-security-context',
    title: 'Prometheus runs non-root with an fsGroup',
    kinds: ['Prometheus'],
    run: (ctx) =>
      ctx.prometheuses.flatMap((p) => {
        const sc = p.spec?.securityContext ?? {};
        if (sc.fsGroup !== undefined && sc.runAsNonRoot === true) return [];
        const lacks = [sc.fsGroup === undefined && 'fsGroup', sc.runAsNonRoot !== true && 'runAsNonRoot: true']
          .filter(Boolean)
          .join(' and ');
        return [
          finding(
            'prometheus-security-context',
            [p],
            `Prometheus ${p.metadata?.name} securityContext lacks ${lacks}: the volume may not be writable by the non-root Prometheus user`,
            'set spec.securityContext {runAsNonRoot: true, runAsUser: 1000, fsGroup: 2000}',
          ),
        ];
      }),
  },
  {
    id: 'prometheus-rbac',
    title: 'Prometheus RBAC can list endpoints',
    kinds: ['Prometheus'],
    run: (ctx) => ctx.prometheuses.flatMap((p) => checkPrometheusRbac(ctx.objects, p, ctx.defaultNs)),
  },
  {
    id: 'pdb-selects-pods',
    title: 'PodDisruptionBudgets select pods',
    kinds: ['PodDisruptionBudget'],
    run: (ctx) => selectingNoPods(ctx, 'PodDisruptionBudget', 'pdb-selects-pods', (pdb) => pdb.spec?.selector),
  },
  {
    id: 'networkpolicy-selects-pods',
    title: 'NetworkPolicies select pods',
    kinds: ['NetworkPolicy'],
    run: (ctx) => selectingNoPods(ctx, 'NetworkPolicy', 'networkpolicy-selects-pods', (np) => np.spec?.podSelector),
  },
  {
    id: 'networkpolicy-isolates-pods',
    title: 'NetworkPolicies isolate every pod, for ingress and for egress',
    kinds: ['NetworkPolicy'],
    run: (ctx) => checkEveryPodIsolated(ctx),
  },
  {
    id: 'api-keys-mounted',
    title: "The API's keys file is in a mounted Secret, the one its keys Job makes",
    kinds: ['Deployment'],
    run: (ctx) => checkApiKeysMounted(ctx),
  },
  {
    id: 'networkpolicy-metrics',
    title: 'NetworkPolicies let Prometheus reach the metrics port',
    kinds: ['NetworkPolicy'],
    run: (ctx) => checkMetricsReachable(ctx),
  },
];

/** Runs every wiring check over `objects`. */
export function checkWiring(objects: readonly K8sObject[], options: CheckOptions = {}): Finding[] {
  const defaultNs = options.defaultNamespace ?? 'default';
  const prometheuses = ofKind(objects, 'Prometheus');
  const ctx: CheckContext = {
    objects,
    defaultNs,
    pods: podTemplates(objects),
    runningPods: runningPods(objects),
    prometheuses,
    selectionUnknown: options.prometheusInCluster === true && prometheuses.length === 0,
    ofKind: (kind) => ofKind(objects, kind),
    ns: (o) => namespaceOf(o, defaultNs),
  };
  return WIRING_CHECKS.flatMap((check) => check.run(ctx));
}

/** The storage request of a Prometheus's volume claim template, as written. */
const volumeRequest = (p: Shaped<'Prometheus'>) => p.spec?.storage?.volumeClaimTemplate?.spec?.resources?.requests?.storage;

function volumeBytes(p: Shaped<'Prometheus'>): number | undefined {
  return quantityBytes(String(volumeRequest(p) ?? ''));
}

/** Findings for each object of `kind` whose pod selector (read by `selectorOf`) matches no pod template in its namespace. */
function selectingNoPods<K extends Kind>(
  ctx: CheckContext,
  kind: K,
  check: string,
  selectorOf: (o: Shaped<K>) => LabelSelector | undefined,
): Finding[] {
  return ctx
    .ofKind(kind)
    .filter((o) => !ctx.runningPods.some((p) => ctx.ns(p.owner) === ctx.ns(o) && selects(selectorOf(o), p.labels)))
    .map((o) =>
      finding(
        check,
        [o],
        `${kind} ${o.metadata?.name} selects ${show(selectorOf(o)?.matchLabels)}, which no pod template has`,
        "use the workload's selector labels",
      ),
    );
}

/** Findings for each object of `kind` that no Prometheus in view selects. */
function unselected(ctx: CheckContext, kind: Selected, check: string, selectorKey: SelectorKey, nsKey: SelectorKey): Finding[] {
  if (ctx.selectionUnknown) return [];
  return ctx
    .ofKind(kind)
    .filter((o) => prometheusesSelecting(ctx.objects, o, ctx.defaultNs).length === 0)
    .map((o) =>
      finding(
        check,
        [o, ...ctx.prometheuses],
        selectionMessage(kind, o, [...ctx.prometheuses], selectorKey, nsKey),
        selectionFix(o, [...ctx.prometheuses], selectorKey),
      ),
    );
}

function selectionMessage(
  kind: Selected,
  o: K8sObject,
  prometheuses: Shaped<'Prometheus'>[],
  selectorKey: SelectorKey,
  nsKey: SelectorKey,
): string {
  if (prometheuses.length === 0) return `${kind} ${o.metadata?.name} is selected by no Prometheus: there is none in these manifests`;
  const described = prometheuses.map((p) => {
    const sel = p.spec?.[selectorKey];
    const nsSel = p.spec?.[nsKey];
    return `Prometheus ${p.metadata?.name} selects ${sel === undefined ? 'nothing (nil ' + selectorKey + ')' : show(sel.matchLabels)}${nsSel === undefined ? ' in its own namespace' : ` in namespaces matching ${show(nsSel.matchLabels)}`}`;
  });
  return `${kind} ${o.metadata?.name} (namespace ${o.metadata?.namespace ?? '-'}) has labels ${show(o.metadata?.labels)}; ${described.join('; ')}`;
}

function selectionFix(o: K8sObject, prometheuses: Shaped<'Prometheus'>[], selectorKey: SelectorKey): string {
  const p = prometheuses[0];
  const wanted = p?.spec?.[selectorKey]?.matchLabels;
  if (p === undefined) return 'deploy a Prometheus whose selectors match this object';
  if (wanted === undefined) return `set Prometheus ${p.metadata?.name} spec.${selectorKey} (a nil selector selects nothing)`;
  const missing = Object.entries(wanted).filter(([k, v]) => o.metadata?.labels?.[k] !== v);
  // The values key that sets these labels: with kube-prometheus-stack, the one `release` value of k8s/values/kube-prometheus-stack.yaml.
  const key =
    o.kind === 'ServiceMonitor'
      ? 'serviceMonitor.additionalLabels'
      : o.kind === 'PrometheusRule'
        ? 'prometheusRule.additionalLabels'
        : undefined;
  const labels = missing.map(([k, v]) => `${k}: ${v}`).join(', ');
  return missing.length > 0
    ? `add label${missing.length > 1 ? 's' : ''} ${labels} to ${o.kind} ${o.metadata?.name}${key === undefined ? '' : ` (values: ${key}, e.g. ${missing.map(([k, v]) => `${key}.${k}=${v}`).join(', ')}; with kube-prometheus-stack the release label of k8s/values/kube-prometheus-stack.yaml)`}`
    : `make the namespace of ${o.kind} ${o.metadata?.name} match Prometheus ${p.metadata?.name}'s namespace selector`;
}

/** The Prometheus ServiceAccount must be allowed to list endpoints (or endpointslices) where it scrapes. */
function checkPrometheusRbac(objects: readonly K8sObject[], p: Shaped<'Prometheus'>, defaultNs: string): Finding[] {
  const sa = p.spec?.serviceAccountName ?? 'default';
  const ns = namespaceOf;
  const pNs = ns(p, defaultNs);
  const boundTo = (b: Shaped<'RoleBinding' | 'ClusterRoleBinding'>) =>
    (b.subjects ?? []).some((s) => s.kind === 'ServiceAccount' && s.name === sa && (s.namespace ?? ns(b, defaultNs)) === pNs);
  const isRole = (o: K8sObject): o is Shaped<'Role' | 'ClusterRole'> => isKind(o, 'Role') || isKind(o, 'ClusterRole');
  const roles = [...ofKind(objects, 'RoleBinding').filter((o) => ns(o, defaultNs) === pNs), ...ofKind(objects, 'ClusterRoleBinding')]
    .filter(boundTo)
    .map((b) => b.roleRef)
    .map((r) =>
      objects
        .filter(isRole)
        .find((o) => o.kind === r?.kind && o.metadata?.name === r?.name && (r.kind === 'ClusterRole' || ns(o, defaultNs) === pNs)),
    )
    .filter((r) => r !== undefined);
  const grants = (resource: string, group: string) =>
    roles.some((r) =>
      (r.rules ?? []).some(
        (rule) =>
          (rule.apiGroups ?? []).some((g) => g === group || g === '*') &&
          (rule.resources ?? []).some((x) => x === resource || x === '*') &&
          (rule.verbs ?? []).some((v) => v === 'list' || v === '*'),
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

/** The pods of every Prometheus among `objects`, labelled as the operator labels them. */
function prometheusPeerPods(objects: readonly K8sObject[], defaultNs: string): PeerPod[] {
  return ofKind(objects, 'Prometheus').map((p) => {
    const pNs = namespaceOf(p, defaultNs);
    return {
      ns: pNs,
      labels: { ...(p.spec?.podMetadata?.labels ?? {}), ...operatorPrometheusPodLabels(p.metadata?.name ?? '') },
      nsLabels: namespaceLabels(objects, pNs),
    };
  });
}

/**
 * Default deny: in a namespace where the objects bring NetworkPolicies, every pod they make run
 * is selected by one with `Ingress` and by one with `Egress`, so no pod is left open.
 */
function checkEveryPodIsolated(ctx: CheckContext): Finding[] {
  const policies = ctx.ofKind('NetworkPolicy');
  const managed = new Set(policies.map((np) => ctx.ns(np)));
  return ctx.runningPods
    .filter((pod) => managed.has(ctx.ns(pod.owner)))
    .flatMap((pod) =>
      (['Ingress', 'Egress'] as const)
        .filter(
          (type) =>
            !policies.some(
              (np) => ctx.ns(np) === ctx.ns(pod.owner) && selects(np.spec?.podSelector ?? {}, pod.labels) && policyTypes(np).includes(type),
            ),
        )
        .map((type) =>
          finding(
            'networkpolicy-isolates-pods',
            [pod.owner],
            `no NetworkPolicy selects the pods of ${pod.owner.kind} ${pod.owner.metadata?.name} (${show(pod.labels)}) for ${type}: they ${type === 'Ingress' ? 'accept connections from' : 'can open connections to'} anything`,
            `add a NetworkPolicy for these pods with ${type} in policyTypes and only the ${type === 'Ingress' ? 'peers that must reach them' : 'destinations they need'}`,
          ),
        ),
    );
}

/**
 * A container with AUTH_API_KEYS_FILE reads it from a whole Secret volume (a subPath mount never
 * sees a rotation), and a Job among the objects that makes a Secret (SECRET_NAME) makes that one.
 */
function checkApiKeysMounted(ctx: CheckContext): Finding[] {
  const made = ctx.pods
    .filter((p) => p.owner.kind === 'Job')
    .flatMap((p) => p.spec.containers.flatMap((c) => (c.env ?? []).filter((e) => e.name === 'SECRET_NAME').map((e) => e.value)));
  return ctx.pods.flatMap((pod) =>
    pod.spec.containers.flatMap((c) => {
      const file = (c.env ?? []).find((e) => e.name === 'AUTH_API_KEYS_FILE')?.value;
      if (file === undefined) return [];
      const mount = (c.volumeMounts ?? []).find((m) => file.startsWith(`${m.mountPath.replace(/\/$/, '')}/`));
      const volume = (pod.spec.volumes ?? []).find((v) => v.name === mount?.name);
      const secret = volume?.secret?.secretName;
      const problem =
        mount === undefined || secret === undefined
          ? `reads AUTH_API_KEYS_FILE ${file}, which is in no mounted Secret`
          : mount.subPath !== undefined
            ? `mounts the keys Secret ${secret} with subPath ${mount.subPath}, so it never sees a rotation`
            : made.length > 0 && !made.includes(secret)
              ? `mounts the keys Secret ${secret}, but the keys Job makes ${made.join(', ')}`
              : undefined;
      if (problem === undefined) return [];
      return [
        finding(
          'api-keys-mounted',
          [pod.owner],
          `container ${c.name} of ${pod.owner.kind} ${pod.owner.metadata?.name} ${problem}`,
          "mount the keys Secret as a whole volume at the directory of AUTH_API_KEYS_FILE (values: auth.existingSecret, or none for the Job's)",
        ),
      ];
    }),
  );
}

/**
 * Where a NetworkPolicy isolates the app's pods, the port a ServiceMonitor scrapes must be open
 * to the pods of each Prometheus that selects that ServiceMonitor (in whatever namespace it runs).
 */
function checkMetricsReachable(ctx: CheckContext): Finding[] {
  const { objects, defaultNs } = ctx;
  const ns = namespaceOf;
  const findings: Finding[] = [];
  for (const sm of ofKind(objects, 'ServiceMonitor')) {
    const scrapers = prometheusPeerPods(prometheusesSelecting(objects, sm, defaultNs), defaultNs);
    if (scrapers.length === 0) continue;
    for (const svc of ofKind(objects, 'Service').filter((o) => selects(sm.spec?.selector, o.metadata?.labels))) {
      for (const ep of sm.spec?.endpoints ?? []) {
        const port = (svc.spec?.ports ?? []).find((p) => p.name === ep.port);
        if (port === undefined) continue;
        const target = port.targetPort ?? port.port;
        const pods = ctx.pods.filter((p) => mapSelects(svc.spec?.selector, p.labels));
        for (const pod of pods) {
          const containerPort = (pod.spec.containers ?? [])
            .flatMap((c) => c.ports ?? [])
            .find((cp) => (typeof target === 'string' ? cp.name === target : cp.containerPort === target));
          const policies = ofKind(objects, 'NetworkPolicy').filter(
            (o) =>
              ns(o, defaultNs) === ns(pod.owner, defaultNs) &&
              selects(o.spec?.podSelector, pod.labels) &&
              (o.spec?.policyTypes ?? ['Ingress']).includes('Ingress'),
          );
          if (policies.length === 0 || containerPort === undefined) continue;
          for (const scraper of scrapers) {
            const open = policies.some((np) =>
              (np.spec?.ingress ?? []).some((rule) => {
                const ports = rule.ports ?? [];
                const portOk =
                  ports.length === 0 ||
                  ports.some((p) => p.port === undefined || p.port === containerPort.name || p.port === containerPort.containerPort);
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
