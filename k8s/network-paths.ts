/**
 * Whether NetworkPolicies let one endpoint open a connection to another, as the API server's
 * networking.k8s.io/v1 semantics define it: a pod selected by a policy with `Egress` in its
 * policyTypes may only send what one such policy's egress rules allow, and a pod selected by a
 * policy with `Ingress` may only receive what one such policy's ingress rules allow; a pod no
 * policy selects for a direction is open in that direction. Addresses outside the cluster are
 * matched against ipBlocks only.
 */
import type { INetworkPolicy, INetworkPolicyPeer, INetworkPolicyPort } from 'kubernetes-models/networking.k8s.io/v1' with {
  'resolution-mode': 'import',
};
import { selects } from './label-selectors';
import type { PeerPod } from './label-selectors';

/** A pod (with the name of the container port it listens on, when it is the destination) or an address. */
export type Endpoint = { readonly pod: PeerPod } | { readonly ip: string };

export interface Port {
  readonly number: number;
  /** The container port's name, which a policy may name instead of the number. */
  readonly name?: string;
  readonly protocol?: 'TCP' | 'UDP' | 'SCTP';
}

type Policy = INetworkPolicy & { readonly metadata?: { readonly namespace?: string } };

/** The directions a policy isolates: `Ingress` always when unset, `Egress` too when it has egress rules. */
export function policyTypes(np: Pick<INetworkPolicy, 'spec'>): string[] {
  return np.spec?.policyTypes ?? ['Ingress', ...(np.spec?.egress !== undefined ? ['Egress'] : [])];
}

function ipv4(ip: string): number | undefined {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + p, 0);
}

/** Whether IPv4 address `ip` is in `cidr` (IPv6 blocks match no IPv4 address). */
export function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const a = ipv4(ip);
  const b = ipv4(base ?? '');
  const n = Number(bits ?? 32);
  if (a === undefined || b === undefined || !Number.isInteger(n) || n < 0 || n > 32) return false;
  const size = 2 ** (32 - n);
  return Math.floor(a / size) === Math.floor(b / size);
}

function peerMatches(peer: INetworkPolicyPeer, policyNs: string, other: Endpoint): boolean {
  if ('ip' in other) {
    const block = peer.ipBlock;
    return block !== undefined && inCidr(other.ip, block.cidr) && !(block.except ?? []).some((e) => inCidr(other.ip, e));
  }
  if (peer.ipBlock !== undefined || (peer.podSelector === undefined && peer.namespaceSelector === undefined)) return false;
  const nsOk = peer.namespaceSelector === undefined ? other.pod.ns === policyNs : selects(peer.namespaceSelector, other.pod.nsLabels);
  return nsOk && (peer.podSelector === undefined || selects(peer.podSelector, other.pod.labels));
}

function portMatches(ports: readonly INetworkPolicyPort[] | undefined, port: Port): boolean {
  if (ports === undefined || ports.length === 0) return true;
  return ports.some((p) => {
    if ((p.protocol ?? 'TCP') !== (port.protocol ?? 'TCP')) return false;
    if (p.port === undefined) return true;
    if (typeof p.port === 'string') return p.port === port.name;
    return p.endPort === undefined ? p.port === port.number : port.number >= p.port && port.number <= p.endPort;
  });
}

/** Policies of the endpoint's namespace selecting it for `type`; none for an address. */
function isolating(policies: readonly Policy[], at: Endpoint, type: 'Ingress' | 'Egress'): Policy[] {
  if ('ip' in at) return [];
  return policies.filter(
    (np) =>
      (np.metadata?.namespace ?? '') === at.pod.ns && selects(np.spec?.podSelector ?? {}, at.pod.labels) && policyTypes(np).includes(type),
  );
}

/**
 * Whether the policies isolating `at` for `type` let it exchange with `other` on `port` (an
 * endpoint no policy isolates for that direction is open).
 */
function admits(policies: readonly Policy[], type: 'Ingress' | 'Egress', at: Endpoint, other: Endpoint, port: Port): boolean {
  const selecting = isolating(policies, at, type);
  return (
    selecting.length === 0 ||
    selecting.some((np) =>
      (type === 'Egress'
        ? (np.spec?.egress ?? []).map((r) => ({ peers: r.to, ports: r.ports }))
        : (np.spec?.ingress ?? []).map((r) => ({ peers: r.from, ports: r.ports }))
      ).some(
        (rule) =>
          portMatches(rule.ports, port) &&
          (rule.peers === undefined ||
            rule.peers.length === 0 ||
            rule.peers.some((peer) => peerMatches(peer, np.metadata!.namespace!, other))),
      ),
    )
  );
}

/** Whether `from` may open a connection to `port` of `to` under `policies` (each with its namespace set). */
export function connectionAllowed(policies: readonly Policy[], from: Endpoint, to: Endpoint, port: Port): boolean {
  return admits(policies, 'Egress', from, to, port) && admits(policies, 'Ingress', to, from, port);
}
