/**
 * What makes Prometheus scrape the API and load its alerts: ServiceMonitor, PrometheusRule and,
 * unless the cluster's own Prometheus does the job, a Prometheus (Prometheus Operator CRD) with
 * persistent storage, explicit selectors for both, its own ServiceAccount and namespaced RBAC.
 */
import { ApiObject } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { PROMETHEUS_REPLICA_LABEL } from '../config';
import type { DeployConfig } from '../config';
import { LABEL, METRICS_PATH, PORT_NAME } from '../../src/contract';
import { MONITORING_API_VERSION, OPERATOR_PORTS, operatorAlertmanagerPodLabels, operatorPrometheusPodLabels } from '../operator';
import { commonLabels, RESTRICTED_SECCOMP, selectorLabels } from '../labels';
import { allRuleGroups } from '../rule-files';
import type { Labels } from '../labels';
import { ifSet } from './api';
import { prometheusServiceName } from './autoscaling';
/** UID/GID of the Prometheus pods (the upstream image's `nobody` works with any non-root UID). */
export const PROMETHEUS_UID = 1000;
export const PROMETHEUS_GID = 2000;

/** Pod security of the Prometheus and Alertmanager pods: non-root, with an fsGroup so their volume is writable. */
const OPERATOR_POD_SECURITY = {
  runAsNonRoot: true,
  runAsUser: PROMETHEUS_UID,
  runAsGroup: PROMETHEUS_GID,
  fsGroup: PROMETHEUS_GID,
  seccompProfile: RESTRICTED_SECCOMP,
};

/** The label that picks out the pods of Alertmanager `name` and no other. */
export const alertmanagerPodLabels = (name: string): Labels => ({ alertmanager: operatorAlertmanagerPodLabels(name).alertmanager! });

/**
 * The Service the bundled Prometheus sends alerts to: the Alertmanager of the same install only.
 * The operator's own `alertmanager-operated` Service selects every Alertmanager of the
 * namespace, so two installs side by side would each notify twice.
 */
export const alertmanagerServiceName = (name: string) => `${name}-alertmanager`;

/**
 * The label an AlertmanagerConfig carries to be loaded by the Alertmanager of install
 * `instance` (and no other in the namespace).
 */
export const alertmanagerConfigLabels = (instance: string): Labels => ({ 'app.kubernetes.io/instance': instance });

/** The labels that pick out the pods of Prometheus `name` and no other. */
export function prometheusPodLabels(name: string): Labels {
  const all = operatorPrometheusPodLabels(name);
  return { 'app.kubernetes.io/name': all['app.kubernetes.io/name']!, 'operator.prometheus.io/name': all['operator.prometheus.io/name']! };
}

/**
 * The operator gives every ServiceMonitor target an `endpoint` label (the scraped port's name),
 * which collides with the app's own `endpoint` label (the route): Prometheus keeps the target's
 * and renames the app's to `exported_endpoint`. These put the route back where the alerts,
 * rules and dashboards look for it; series without a route keep the target's label.
 */
export const ENDPOINT_LABEL_RELABELINGS = [
  { sourceLabels: [`exported_${LABEL.endpoint}`], regex: '(.+)', targetLabel: LABEL.endpoint, replacement: '$1', action: 'replace' },
  { regex: `exported_${LABEL.endpoint}`, action: 'labeldrop' },
] as const;

export interface MonitoringProps {
  readonly config: DeployConfig;
  /** Labels of the Service to scrape. */
  readonly serviceLabels: Labels;
}

/**
 * ServiceMonitor and PrometheusRule (each optional), and, when enabled, the app's own Prometheus
 * and Alertmanager. Nothing here is cluster-scoped: a namespace admin can install it.
 */
export class Monitoring extends Construct {
  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const c = props.config;
    const apiLabels = commonLabels(c, 'api', c.image.tag);
    // The bundled Prometheus selects by the app's own stable labels; other Prometheuses by the
    // additional labels (kube-prometheus-stack: release: <its release>).
    const ownSelector = selectorLabels(c, 'api');

    if (c.serviceMonitor.enabled) {
      const sm = c.serviceMonitor;
      new ApiObject(this, 'service-monitor', {
        apiVersion: MONITORING_API_VERSION,
        kind: 'ServiceMonitor',
        metadata: { name: c.name, labels: { ...sm.additionalLabels, ...apiLabels } },
        spec: {
          selector: { matchLabels: props.serviceLabels },
          namespaceSelector: { matchNames: [c.namespace] },
          endpoints: [
            {
              port: PORT_NAME.metrics,
              path: METRICS_PATH,
              scheme: 'http',
              interval: sm.interval,
              scrapeTimeout: sm.scrapeTimeout,
              metricRelabelings: ENDPOINT_LABEL_RELABELINGS,
            },
          ],
          sampleLimit: sm.sampleLimit,
        },
      });
    }

    if (c.prometheusRule.enabled) {
      new ApiObject(this, 'prometheus-rule', {
        apiVersion: MONITORING_API_VERSION,
        kind: 'PrometheusRule',
        metadata: { name: c.name, labels: { ...c.prometheusRule.additionalLabels, ...apiLabels } },
        spec: { groups: allRuleGroups(c) },
      });
    }

    if (c.prometheus.enabled) this.bundledPrometheus(c, ownSelector);
  }

  private bundledPrometheus(c: DeployConfig, selectedBy: Labels): void {
    const p = c.prometheus;
    const name = c.name;
    const labels = commonLabels(c, 'prometheus', c.image.tag);
    const namespaceSelector = { matchLabels: { 'kubernetes.io/metadata.name': c.namespace } };
    const serviceAccount = new kplus.ServiceAccount(this, 'prometheus-sa', {
      metadata: { name: `${name}-prometheus`, labels },
      automountToken: true,
    });
    // Service discovery in the app's namespace only, with a namespaced Role.
    const discovery = new kplus.k8s.KubeRole(this, 'prometheus-discovery', {
      metadata: { name: `${name}-prometheus-discovery`, labels },
      rules: [
        { apiGroups: [''], resources: ['services', 'endpoints', 'pods'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['configmaps'], verbs: ['get'] },
      ],
    });
    new kplus.k8s.KubeRoleBinding(this, 'prometheus-discovery-binding', {
      metadata: { name: `${name}-prometheus-discovery`, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: discovery.name },
      subjects: [{ kind: 'ServiceAccount', name: serviceAccount.name, namespace: c.namespace }],
    });

    if (c.alertmanager.enabled) {
      const amLabels = commonLabels(c, 'alertmanager', c.image.tag);
      // The operator writes a default configuration (a receiver that notifies no one) until the
      // Secret alertmanager-<name> holds one: add receivers there, or with AlertmanagerConfigs in
      // the app's namespace labelled for this install (the operator scopes their routes to alerts
      // of that namespace).
      new ApiObject(this, 'alertmanager', {
        apiVersion: MONITORING_API_VERSION,
        kind: 'Alertmanager',
        metadata: { name, labels: amLabels },
        spec: {
          ...ifSet('version', c.alertmanager.version),
          replicas: 1,
          alertmanagerConfigSelector: { matchLabels: alertmanagerConfigLabels(c.instance) },
          alertmanagerConfigNamespaceSelector: namespaceSelector,
          // Silences and the notification log survive restarts.
          storage: volumeClaim(c.alertmanager.storage),
          securityContext: OPERATOR_POD_SECURITY,
          resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '128Mi' } },
        },
      });
      new ApiObject(this, 'alertmanager-service', {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: alertmanagerServiceName(name), labels: amLabels },
        spec: { selector: alertmanagerPodLabels(name), ports: [{ name: 'web', port: 9093, targetPort: 'web', protocol: 'TCP' }] },
      });
    }

    const podLabels = prometheusPodLabels(name);
    new ApiObject(this, 'prometheus-service', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: prometheusServiceName(name), labels },
      spec: { selector: podLabels, ports: [{ name: 'web', port: OPERATOR_PORTS.prometheusWeb, targetPort: 'web', protocol: 'TCP' }] },
    });
    if (p.replicas > 1) {
      new ApiObject(this, 'prometheus-pdb', {
        apiVersion: 'policy/v1',
        kind: 'PodDisruptionBudget',
        metadata: { name: `${name}-prometheus`, labels },
        spec: { maxUnavailable: 1, selector: { matchLabels: podLabels } },
      });
    }

    new ApiObject(this, 'prometheus', {
      apiVersion: MONITORING_API_VERSION,
      kind: 'Prometheus',
      metadata: { name, labels },
      spec: {
        ...ifSet('version', p.version),
        replicas: p.replicas,
        serviceAccountName: serviceAccount.name,
        // The operator sets the name/instance labels of its pods itself (see prometheusPodLabels).
        podMetadata: { labels: { 'app.kubernetes.io/part-of': c.name } },
        serviceMonitorSelector: { matchLabels: selectedBy },
        serviceMonitorNamespaceSelector: namespaceSelector,
        ruleSelector: { matchLabels: selectedBy },
        ruleNamespaceSelector: namespaceSelector,
        // Only what this app declares: the PodMonitor CloudNativePG makes for the app's Cluster
        // (labelled by its inheritedMetadata), no Probes or ScrapeConfigs.
        podMonitorSelector: { matchLabels: selectorLabels(c, 'database') },
        podMonitorNamespaceSelector: namespaceSelector,
        probeSelector: { matchLabels: selectedBy },
        probeNamespaceSelector: namespaceSelector,
        scrapeInterval: c.serviceMonitor.interval,
        scrapeTimeout: c.serviceMonitor.scrapeTimeout,
        evaluationInterval: p.evaluationInterval,
        retention: p.retention,
        retentionSize: p.retentionSize,
        storage: volumeClaim(p.storage),
        securityContext: OPERATOR_POD_SECURITY,
        resources: p.resources,
        walCompression: true,
        // Each replica's series carry prometheus_replica (the operator's default, named here so
        // queries and Thanos can rely on it); the operator drops it from alerts, so Alertmanager
        // receives the same alert from every replica and notifies once.
        replicaExternalLabelName: PROMETHEUS_REPLICA_LABEL,
        ...ifSet('externalLabels', p.externalLabels),
        ...ifSet('remoteWrite', p.remoteWrite),
        ...(p.thanos.enabled && {
          thanos: {
            ...ifSet('version', p.thanos.version),
            ...(p.thanos.objectStorageConfig && { objectStorageConfig: p.thanos.objectStorageConfig }),
          },
        }),
        // Replicas on different nodes where the cluster allows it: one node's loss leaves one scraping.
        ...(p.replicas > 1 && {
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: podLabels } } },
              ],
            },
          },
        }),
        ...(c.alertmanager.enabled && {
          alerting: { alertmanagers: [{ namespace: c.namespace, name: alertmanagerServiceName(name), port: 'web', apiVersion: 'v2' }] },
        }),
      },
    });
  }
}

function volumeClaim(storage: { size: string; storageClass?: string }): Record<string, unknown> {
  return {
    volumeClaimTemplate: {
      metadata: { name: 'data' },
      spec: {
        accessModes: ['ReadWriteOnce'],
        resources: { requests: { storage: storage.size } },
        ...(storage.storageClass !== undefined && { storageClassName: storage.storageClass }),
      },
    },
  };
}
