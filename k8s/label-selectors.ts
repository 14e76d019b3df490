/**
 * Kubernetes selection semantics, as the API server and the Prometheus Operator apply them:
 * label selectors, equality-based selectors (Service.spec.selector) and NetworkPolicy peers.
 */

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/**
 * Label-selector semantics. `undefined` (nil) selects nothing here, as the Prometheus Operator
 * treats nil ServiceMonitor/rule selectors; `{}` selects everything.
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
export function mapSelects(selector: Record<string, string> | undefined, labels: Record<string, string> = {}): boolean {
  return selector !== undefined && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** A NetworkPolicyPeer, as far as pods go (an ipBlock names no pods). */
export interface NetworkPolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
}

/** A pod as a NetworkPolicy sees it: its labels, its namespace and that namespace's labels. */
export interface PeerPod {
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
export function peerAdmits(from: readonly NetworkPolicyPeer[] | undefined, policyNs: string, pod: PeerPod): boolean {
  if (from === undefined || from.length === 0) return true;
  return from.some((peer) => {
    if (peer.podSelector === undefined && peer.namespaceSelector === undefined) return false;
    const nsOk = peer.namespaceSelector === undefined ? pod.ns === policyNs : selects(peer.namespaceSelector, pod.nsLabels);
    const podOk = peer.podSelector === undefined || selects(peer.podSelector, pod.labels);
    return nsOk && podOk;
  });
}
