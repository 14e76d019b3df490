/**
 * Wiring checks of the autoscalers (an HPA or KEDA's ScaledObject): they name a Deployment that
 * leaves its replica count to them, whose pods request the CPU a CPU target is a share of, whose
 * PodDisruptionBudget still lets a node drain at minReplicas, and a request-rate query reads a
 * series the PrometheusRule records. Registered in WIRING_CHECKS (k8s/checks.ts).
 */
import { selects } from './label-selectors';
import { ref } from './objects';
import type { Finding, K8sObject, Shaped } from './objects';
import type { CheckContext, WiringCheck } from './checks';

type Autoscaler = Shaped<'HorizontalPodAutoscaler'> | Shaped<'ScaledObject'>;

interface Scaling {
  readonly scaler: Autoscaler;
  readonly target: { readonly apiVersion?: string; readonly kind?: string; readonly name: string };
  readonly minReplicas: number;
  /** A target or trigger is a share of the pods' CPU request. */
  readonly onCpu: boolean;
}

const finding = (check: string, involved: readonly K8sObject[], message: string, fix: string): Finding => ({
  check,
  objects: involved.map(ref),
  message,
  fix,
});

function scalings(ctx: CheckContext): Scaling[] {
  return [
    ...ctx.ofKind('HorizontalPodAutoscaler').map((h) => ({
      scaler: h,
      target: h.spec.scaleTargetRef,
      minReplicas: h.spec.minReplicas ?? 1,
      onCpu: (h.spec.metrics ?? []).some((m) => m.type === 'Resource' && m.resource?.name === 'cpu'),
    })),
    ...ctx.ofKind('ScaledObject').map((s) => ({
      scaler: s,
      // KEDA's default target kind is a Deployment (apps/v1).
      target: { apiVersion: 'apps/v1', kind: 'Deployment', ...s.spec.scaleTargetRef },
      minReplicas: s.spec.minReplicaCount ?? 0,
      onCpu: s.spec.triggers.some((t) => t.type === 'cpu'),
    })),
  ];
}

const deploymentOf = (ctx: CheckContext, s: Scaling): Shaped<'Deployment'> | undefined =>
  s.target.kind === 'Deployment' && s.target.apiVersion === 'apps/v1'
    ? ctx.ofKind('Deployment').find((d) => d.metadata?.name === s.target.name && ctx.ns(d) === ctx.ns(s.scaler))
    : undefined;

/** Names of recorded series (`level:metric:operations`) a PromQL query reads. */
const recordedNames = (query: string): string[] =>
  [...query.matchAll(/[A-Za-z_][A-Za-z0-9_]*:[A-Za-z0-9_:]*[A-Za-z0-9_]/g)].map((m) => m[0]);

/** Whether the PDB lets one of `pods` healthy pods be evicted. */
function drainable(pdb: Shaped<'PodDisruptionBudget'>, pods: number): boolean {
  const spec = pdb.spec ?? {};
  const count = (v: number | string, round: (x: number) => number) =>
    typeof v === 'number' ? v : round((Number.parseFloat(v) / 100) * pods);
  if (spec.maxUnavailable !== undefined) return count(spec.maxUnavailable, Math.ceil) >= 1;
  if (spec.minAvailable !== undefined) return count(spec.minAvailable, Math.ceil) < pods;
  return true;
}

export const SCALING_CHECKS: readonly WiringCheck[] = [
  {
    id: 'autoscaler-target',
    title: "autoscalers' scaleTargetRef names a Deployment of their namespace",
    kinds: ['HorizontalPodAutoscaler', 'ScaledObject'],
    run: (ctx) =>
      scalings(ctx)
        .filter((s) => deploymentOf(ctx, s) === undefined)
        .map((s) =>
          finding(
            'autoscaler-target',
            [s.scaler],
            `${s.scaler.kind} ${s.scaler.metadata?.name} scales ${s.target.kind ?? 'Deployment'} ${s.target.name} (${s.target.apiVersion ?? 'apps/v1'}), which is not a Deployment of its namespace`,
            "set scaleTargetRef to {apiVersion: apps/v1, kind: Deployment, name: <the API's Deployment>}",
          ),
        ),
  },
  {
    id: 'autoscaled-replicas',
    title: 'an autoscaled Deployment leaves replicas to its autoscaler',
    kinds: ['HorizontalPodAutoscaler', 'ScaledObject'],
    run: (ctx) =>
      scalings(ctx).flatMap((s) => {
        const d = deploymentOf(ctx, s);
        if (d?.spec?.replicas === undefined) return [];
        return [
          finding(
            'autoscaled-replicas',
            [d, s.scaler],
            `Deployment ${d.metadata?.name} sets replicas: ${d.spec.replicas} while ${s.scaler.kind} ${s.scaler.metadata?.name} scales it: every apply resets the autoscaler's choice`,
            'leave spec.replicas out of the Deployment (the chart does with autoscaling.enabled)',
          ),
        ];
      }),
  },
  {
    id: 'autoscaler-cpu-requests',
    title: "a CPU target has the containers' CPU requests to be a share of",
    kinds: ['HorizontalPodAutoscaler', 'ScaledObject'],
    run: (ctx) =>
      scalings(ctx).flatMap((s) => {
        const d = deploymentOf(ctx, s);
        const lacking = (d?.spec?.template.spec?.containers ?? []).filter((ct) => ct.resources?.requests?.cpu === undefined);
        if (!s.onCpu || d === undefined || lacking.length === 0) return [];
        return [
          finding(
            'autoscaler-cpu-requests',
            [s.scaler, d],
            `${s.scaler.kind} ${s.scaler.metadata?.name} targets CPU utilization, but container(s) ${lacking.map((c) => c.name).join(', ')} of Deployment ${d.metadata?.name} request no CPU: utilization has nothing to be a percentage of`,
            'set resources.requests.cpu on every container',
          ),
        ];
      }),
  },
  {
    id: 'autoscaler-pdb',
    title: 'PodDisruptionBudgets let a node drain at minReplicas',
    kinds: ['HorizontalPodAutoscaler', 'ScaledObject'],
    run: (ctx) =>
      scalings(ctx).flatMap((s) => {
        const d = deploymentOf(ctx, s);
        const labels = d?.spec?.template.metadata?.labels ?? {};
        if (d === undefined) return [];
        return ctx
          .ofKind('PodDisruptionBudget')
          .filter((pdb) => ctx.ns(pdb) === ctx.ns(d) && selects(pdb.spec?.selector, labels))
          .filter((pdb) => s.minReplicas < 2 || !drainable(pdb, s.minReplicas))
          .map((pdb) =>
            finding(
              'autoscaler-pdb',
              [pdb, s.scaler],
              s.minReplicas < 2
                ? `${s.scaler.kind} ${s.scaler.metadata?.name} may scale to ${s.minReplicas} pod(s): a node drain then evicts the last one PodDisruptionBudget ${pdb.metadata?.name} guards`
                : `PodDisruptionBudget ${pdb.metadata?.name} lets no pod be evicted at ${s.minReplicas} replicas (the minimum of ${s.scaler.kind} ${s.scaler.metadata?.name}): node drains block`,
              'keep minReplicas at 2 or more and the budget at maxUnavailable: 1',
            ),
          );
      }),
  },
  {
    id: 'scaledobject-metric-recorded',
    title: "the ScaledObject's Prometheus query reads a series the PrometheusRule records",
    kinds: ['ScaledObject'],
    run: (ctx) => {
      const records = new Set(
        ctx.ofKind('PrometheusRule').flatMap((r) => (r.spec?.groups ?? []).flatMap((g) => (g.rules ?? []).map((x) => x.record))),
      );
      return ctx.ofKind('ScaledObject').flatMap((so) =>
        so.spec.triggers
          .filter((t) => t.type === 'prometheus')
          .flatMap((t) => {
            const query = String(t.metadata?.query ?? '');
            const names = recordedNames(query);
            const missing = names.filter((n) => !records.has(n));
            if (names.length > 0 && missing.length === 0) return [];
            return [
              finding(
                'scaledobject-metric-recorded',
                [so],
                `ScaledObject ${so.metadata?.name} queries ${JSON.stringify(query)}, ${names.length === 0 ? 'which reads no recorded series' : `and no PrometheusRule records ${missing.join(', ')}`}: KEDA would get no value`,
                'query the recorded per-pod request rate and keep prometheusRule.enabled (the chart does with autoscaling.keda.enabled)',
              ),
            ];
          }),
      );
    },
  },
];
