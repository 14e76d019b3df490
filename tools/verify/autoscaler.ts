/**
 * The live autoscaler check of `verify`: with autoscaling on in the deploy config, the HPA or
 * KEDA ScaledObject exists in the app's namespace, scales the app's Deployment, and (KEDA) has
 * been reconciled: KEDA sets its Ready condition once the trigger's query answers.
 */
import type { K8sObject, Shaped } from '../../k8s/objects';
import type { Checklist } from './checklist';

export type AutoscalerKind = 'HorizontalPodAutoscaler' | 'ScaledObject';

interface Condition {
  type?: string;
  status?: string;
  message?: string;
}

export function checkAutoscaler(
  list: Checklist,
  autoscalers: readonly K8sObject[],
  o: { readonly namespace: string; readonly name: string; readonly expected?: AutoscalerKind },
): void {
  if (o.expected === undefined) return;
  const title = `${o.expected} ${o.namespace}/${o.name} scales Deployment ${o.name}`;
  const found = autoscalers.find(
    (a) => a.kind === o.expected && (a.spec as { scaleTargetRef?: { name?: string } } | undefined)?.scaleTargetRef?.name === o.name,
  );
  if (found === undefined) {
    const fix =
      o.expected === 'ScaledObject'
        ? 'install KEDA (its CRDs and operator), then apply the manifests again'
        : 'apply the manifests again (npm run synth && kubectl apply --server-side -f dist/)';
    list.fail('autoscaler', title, fix, `no ${o.expected} in ${o.namespace} names Deployment ${o.name}`);
    return;
  }
  if (o.expected === 'HorizontalPodAutoscaler') {
    const hpa = found as Shaped<'HorizontalPodAutoscaler'>;
    list.pass(
      'autoscaler',
      title,
      `${hpa.status?.currentReplicas ?? '?'} replicas now, ${hpa.spec?.minReplicas ?? 1}–${hpa.spec?.maxReplicas}`,
    );
    return;
  }
  const so = found as Shaped<'ScaledObject'>;
  const ready = ((so.status as { conditions?: Condition[] } | undefined)?.conditions ?? []).find((c) => c.type === 'Ready');
  const bounds = `${so.spec.minReplicaCount ?? 0}–${so.spec.maxReplicaCount ?? 100} replicas`;
  if (ready?.status === 'True') list.pass('autoscaler', title, `KEDA reports it Ready; ${bounds}`);
  else
    list.fail(
      'autoscaler',
      title,
      `kubectl -n ${o.namespace} describe scaledobject/${o.name}, and the keda-operator's log: is Prometheus reachable from the keda namespace (networkPolicy.kedaFrom)?`,
      `KEDA has not reported it Ready${ready?.message ? `: ${ready.message}` : ''}`,
    );
}
