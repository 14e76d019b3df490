/** Runs the shared wiring checks over a set of objects and adds one checklist item per check. */
import { checkWiring, WIRING_CHECKS } from '../../k8s/checks';
import type { Finding, K8sObject } from '../../k8s/checks';
import type { Checklist } from './checklist';

export interface WiringOptions {
  /** Keeps only the findings that concern the app (a live cluster holds other teams' objects too). @default all */
  readonly relevant?: (f: Finding) => boolean;
  /** Checks that cannot run, by id, with the reason (a list the user may not read). */
  readonly cannotRun?: Readonly<Record<string, string>>;
  /** Findings worth knowing that are not the app's to fix (another team's Prometheus): warnings, not failures. */
  readonly warnOnly?: (f: Finding) => boolean;
}

/** Checks of a Prometheus's own settings (storage, retention, RBAC). */
export const PROMETHEUS_CHECKS: readonly string[] = WIRING_CHECKS.filter((c) => c.kinds.includes('Prometheus')).map((c) => c.id);

/**
 * Findings about a Prometheus outside the app's namespace (kube-prometheus-stack's, another
 * team's): its storage or its ClusterRole are not the app team's to fix, so they warn.
 */
export const othersPrometheus =
  (appNamespace: string) =>
  (f: Finding): boolean =>
    PROMETHEUS_CHECKS.includes(f.check) && !f.objects.some((r) => r.split('/')[1] === appNamespace);

/** Checks that need to see the Prometheus that should select the app. */
export const SELECTION_CHECKS = ['prometheus-selects-servicemonitor', 'prometheus-selects-rule', 'networkpolicy-metrics'] as const;

export function addWiringChecks(list: Checklist, objects: readonly K8sObject[], options: WiringOptions = {}): void {
  const relevant = options.relevant ?? (() => true);
  const cannotRun = { ...(options.cannotRun ?? {}) };
  if (!objects.some((o) => o.kind === 'Prometheus')) {
    const why =
      "no Prometheus among these objects, so which one selects the app is unknown: add the cluster's " +
      '(kubectl get prometheus -A -o yaml > prometheus.yaml, then --manifests prometheus.yaml) or run verify against the cluster';
    for (const id of SELECTION_CHECKS) cannotRun[id] ??= why;
  }
  const findings = checkWiring(objects, { prometheusInCluster: true }).filter(relevant);
  const present = new Set(objects.map((o) => o.kind));
  for (const { id, title, kinds } of WIRING_CHECKS) {
    // A check about kinds absent from the set has nothing to say.
    const applies = kinds.some((k) => present.has(k));
    if (cannotRun[id] !== undefined) {
      if (applies) list.skip(id, title, cannotRun[id]);
      continue;
    }
    const mine = findings.filter((f) => f.check === id);
    if (mine.length === 0) {
      if (applies) list.pass(id, title);
      continue;
    }
    const warnOnly = options.warnOnly !== undefined && mine.every(options.warnOnly);
    list.add({
      id,
      title,
      status: warnOnly ? 'warn' : 'fail',
      details: mine.map((f) => `${f.message} [${f.objects.join(', ')}]`),
      fix: [...new Set(mine.map((f) => f.fix))].join('; '),
    });
  }
}
