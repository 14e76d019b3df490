/**
 * Wiring checks of the edges of the app: what the ingress controller or Gateway sends to (the
 * API port of the API Service, never its metrics port), and what the API reads its database URL
 * from when CloudNativePG runs the database (the Cluster's `-app` Secret, key `uri`), and
 * whether a Prometheus picks up the PodMonitor the operator makes for the Cluster.
 */
import { cnpgPodLabels } from './cnpg';
import { selects } from './label-selectors';
import { isWorkload, namespaceLabels, ref } from './objects';
import type { Finding, K8sObject, Shaped } from './objects';
import type { CheckContext, WiringCheck } from './checks';

const finding = (check: string, involved: readonly K8sObject[], message: string, fix: string): Finding => ({
  check,
  objects: involved.map(ref),
  message,
  fix,
});

interface Backend {
  readonly from: K8sObject;
  readonly where: string;
  readonly service: string;
  readonly port: number | string | undefined;
}

/** Every Service an Ingress or an HTTPRoute sends to, with the port it names. */
function backends(ctx: CheckContext): Backend[] {
  const fromIngress = ctx
    .ofKind('Ingress')
    .flatMap((ing) =>
      [
        ...(ing.spec?.defaultBackend?.service !== undefined ? [{ path: 'spec.defaultBackend', backend: ing.spec.defaultBackend }] : []),
        ...(ing.spec?.rules ?? []).flatMap((r, i) =>
          (r.http?.paths ?? []).map((p, j) => ({ path: `spec.rules[${i}].http.paths[${j}].backend`, backend: p.backend })),
        ),
      ].flatMap(({ path, backend }) =>
        backend.service === undefined
          ? []
          : [{ from: ing, where: path, service: backend.service.name, port: backend.service.port?.number ?? backend.service.port?.name }],
      ),
    );
  const fromRoutes = ctx
    .ofKind('HTTPRoute')
    .flatMap((route) =>
      (route.spec?.rules ?? []).flatMap((r, i) =>
        (r.backendRefs ?? [])
          .filter((b) => (b.kind ?? 'Service') === 'Service' && (b.group ?? '') === '' && (b.namespace ?? ctx.ns(route)) === ctx.ns(route))
          .map((b, j) => ({ from: route, where: `spec.rules[${i}].backendRefs[${j}]`, service: b.name, port: b.port })),
      ),
    );
  return [...fromIngress, ...fromRoutes];
}

/** The ports ServiceMonitors scrape on each Service, by Service name. */
function scrapedPorts(ctx: CheckContext, svc: Shaped<'Service'>): string[] {
  return ctx
    .ofKind('ServiceMonitor')
    .filter((sm) => selects(sm.spec?.selector, svc.metadata?.labels))
    .flatMap((sm) => (sm.spec?.endpoints ?? []).map((e) => e.port))
    .filter((p): p is string => typeof p === 'string');
}

function checkRouteBackends(ctx: CheckContext): Finding[] {
  return backends(ctx).flatMap((b) => {
    const svc = ctx.ofKind('Service').find((s) => s.metadata?.name === b.service && ctx.ns(s) === ctx.ns(b.from));
    const id = 'route-backend-api-port';
    const at = `${b.from.kind} ${b.from.metadata?.name} ${b.where}`;
    if (svc === undefined) {
      return [finding(id, [b.from], `${at} sends to Service ${b.service}, which is not among these objects`, "name the API's Service")];
    }
    const port = (svc.spec?.ports ?? []).find((p) => p.port === b.port || (p.name !== undefined && p.name === b.port));
    if (port === undefined) {
      return [
        finding(
          id,
          [b.from, svc],
          `${at} sends to port ${String(b.port)} of Service ${b.service}, which has ports ${JSON.stringify((svc.spec?.ports ?? []).map((p) => `${p.name}:${p.port}`))}`,
          'name the API port of the Service (values: service.port)',
        ),
      ];
    }
    if (port.name !== undefined && scrapedPorts(ctx, svc).includes(port.name)) {
      return [
        finding(
          id,
          [b.from, svc],
          `${at} sends to port ${port.name} (${port.port}) of Service ${b.service}, the port Prometheus scrapes: the metrics would be public`,
          'send to the API port (values: service.port), never the metrics port',
        ),
      ];
    }
    return [];
  });
}

/** Where each workload container reads DATABASE_URL from a Secret. */
function databaseSecretRefs(ctx: CheckContext): { owner: K8sObject; name: string; key: string }[] {
  return ctx.objects
    .filter(isWorkload)
    .flatMap((w) =>
      (w.spec?.template?.spec?.containers ?? []).flatMap((c) =>
        (c.env ?? [])
          .filter((e) => e.name === 'DATABASE_URL' && e.valueFrom?.secretKeyRef !== undefined)
          .map((e) => ({ owner: w, name: e.valueFrom!.secretKeyRef!.name ?? '', key: e.valueFrom!.secretKeyRef!.key })),
      ),
    );
}

function checkClusterSecret(ctx: CheckContext): Finding[] {
  const refs = databaseSecretRefs(ctx);
  return ctx.ofKind('Cluster').flatMap((cluster) => {
    const secret = `${cluster.metadata?.name}-app`;
    const readers = refs.filter((r) => ctx.ns(r.owner) === ctx.ns(cluster) && r.name === secret && r.key === 'uri');
    if (readers.length > 0) return [];
    const seen =
      refs.map((r) => `${r.owner.kind} ${r.owner.metadata?.name} reads ${r.name}/${r.key}`).join('; ') ||
      'no workload reads DATABASE_URL from a Secret';
    return [
      finding(
        'database-secret-from-cluster',
        [cluster, ...refs.map((r) => r.owner)],
        `CloudNativePG Cluster ${cluster.metadata?.name} keeps the application URL in Secret ${secret} (key uri), which no workload reads: ${seen}`,
        `set DATABASE_URL from secretKeyRef {name: ${secret}, key: uri} (values: database.cloudnativepg.enabled, without database.existingSecret)`,
      ),
    ];
  });
}

function checkPodMonitorSelected(ctx: CheckContext): Finding[] {
  if (ctx.selectionUnknown) return [];
  return ctx
    .ofKind('Cluster')
    .filter((c) => c.spec?.monitoring?.enablePodMonitor === true)
    .flatMap((cluster) => {
      const labels = cluster.spec?.inheritedMetadata?.labels ?? {};
      const ns = ctx.ns(cluster);
      const selecting = ctx.prometheuses.filter((p) => {
        const nsSel = p.spec?.podMonitorNamespaceSelector;
        const nsOk = nsSel === undefined || nsSel === null ? ctx.ns(p) === ns : selects(nsSel, namespaceLabels(ctx.objects, ns));
        return nsOk && selects(p.spec?.podMonitorSelector, labels);
      });
      if (selecting.length > 0) return [];
      return [
        finding(
          'prometheus-selects-podmonitor',
          [cluster, ...ctx.prometheuses],
          `CloudNativePG makes PodMonitor ${cluster.metadata?.name} with the Cluster's inheritedMetadata labels ${JSON.stringify(labels)}; no Prometheus here selects them (${ctx.prometheuses.map((p) => `${p.metadata?.name}: ${JSON.stringify(p.spec?.podMonitorSelector?.matchLabels ?? null)}`).join('; ') || 'none'})`,
          "label the Cluster's inheritedMetadata with what the Prometheus's podMonitorSelector asks (values: serviceMonitor.additionalLabels)",
        ),
      ];
    });
}

/** The Cluster's pods, as the operator labels them: what the NetworkPolicies and the isolation check see. */
export const clusterPods = (cluster: Shaped<'Cluster'>) =>
  cnpgPodLabels(cluster.metadata?.name ?? '', cluster.spec?.inheritedMetadata?.labels ?? {});

export const EDGE_CHECKS: readonly WiringCheck[] = [
  {
    id: 'route-backend-api-port',
    title: "Ingresses and HTTPRoutes send to a Service's API port, never its metrics port",
    kinds: ['Ingress', 'HTTPRoute'],
    run: checkRouteBackends,
  },
  {
    id: 'database-secret-from-cluster',
    title: "the API reads the CloudNativePG Cluster's -app Secret (uri)",
    kinds: ['Cluster'],
    run: checkClusterSecret,
  },
  {
    id: 'prometheus-selects-podmonitor',
    title: 'a Prometheus selects the PodMonitor CloudNativePG makes for the Cluster',
    kinds: ['Cluster'],
    run: checkPodMonitorSelected,
  },
];
