/**
 * What the Prometheus Operator adds at run time, which manifests do not show: the labels of the
 * pods it creates for a Prometheus (prometheus-operator 0.93 pkg/prometheus/common.go and
 * server/operator.go). The default NetworkPolicy peers, the wiring checks and `verify` read
 * them from here.
 */

export const MONITORING_API_VERSION = 'monitoring.coreos.com/v1';

/** Every label the operator puts on the pods of Prometheus `name` (shard 0), before podMetadata's. */
export function operatorPrometheusPodLabels(name: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'prometheus',
    'app.kubernetes.io/instance': name,
    'app.kubernetes.io/managed-by': 'prometheus-operator',
    'operator.prometheus.io/name': name,
    'operator.prometheus.io/shard': '0',
    prometheus: name,
  };
}

/** The labels the operator puts on the pods of Alertmanager `name` (pkg/alertmanager/statefulset.go). */
export function operatorAlertmanagerPodLabels(name: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'alertmanager',
    'app.kubernetes.io/instance': name,
    'app.kubernetes.io/managed-by': 'prometheus-operator',
    alertmanager: name,
  };
}

/** Ports of the operator's pods: Prometheus's web port, its Thanos sidecar's gRPC, Alertmanager's web and cluster (mesh) ports. */
export const OPERATOR_PORTS = { prometheusWeb: 9090, thanosGrpc: 10901, alertmanagerWeb: 9093, alertmanagerMesh: 9094 } as const;

/** The label every operator-run Prometheus pod carries, whoever deployed it. */
export const ANY_PROMETHEUS_POD = { 'app.kubernetes.io/name': 'prometheus' } as const;
