/** Runs the shared wiring checks over a set of objects and adds one checklist item per check. */
import { checkWiring, WIRING_CHECKS } from '../../k8s/checks';
import type { Finding, K8sObject } from '../../k8s/checks';
import type { Checklist } from './checklist';

/**
 * @param relevant keeps only the findings that concern the app (a live cluster holds other
 * teams' objects too); all findings by default
 */
export function addWiringChecks(list: Checklist, objects: readonly K8sObject[], relevant: (f: Finding) => boolean = () => true): void {
  const findings = checkWiring(objects).filter(relevant);
  const present = new Set(objects.map((o) => o.kind));
  for (const [id, title] of Object.entries(WIRING_CHECKS)) {
    const mine = findings.filter((f) => f.check === id);
    if (mine.length === 0) {
      // A check about kinds absent from the set has nothing to say.
      if (applies(id, present)) list.pass(id, title);
      continue;
    }
    list.add({ id, title, status: 'fail', details: mine.map((f) => `${f.message} [${f.objects.join(', ')}]`), fix: [...new Set(mine.map((f) => f.fix))].join('; ') });
  }
}

function applies(id: string, kinds: ReadonlySet<string | undefined>): boolean {
  if (id.startsWith('servicemonitor') || id === 'scrape-timeout' || id === 'prometheus-selects-servicemonitor') return kinds.has('ServiceMonitor');
  if (id === 'prometheus-selects-rule') return kinds.has('PrometheusRule');
  if (id.startsWith('prometheus')) return kinds.has('Prometheus');
  if (id.startsWith('pdb')) return kinds.has('PodDisruptionBudget');
  if (id.startsWith('networkpolicy')) return kinds.has('NetworkPolicy');
  return kinds.has('Service') || kinds.has('Deployment');
}
