/**
 * Pod Security Standards `restricted` (Kubernetes 1.25+ profile), checked over the pod templates
 * of workloads and the pod securityContext of Prometheus resources, plus this project's own
 * rule that containers run with a read-only root filesystem.
 */
import type { IPodSecurityContext, IPodSpec, ISecurityContext } from 'kubernetes-models/v1' with { 'resolution-mode': 'import' };
import { isKind, isWorkload, ref } from './objects';
import type { Finding, K8sObject } from './objects';

const ALLOWED_VOLUMES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];
const NO_POD: IPodSpec = { containers: [] };

const seccompOk = (sc: ISecurityContext | IPodSecurityContext): boolean =>
  ['RuntimeDefault', 'Localhost'].includes(sc.seccompProfile?.type ?? '');

export function podSpecViolations(spec: IPodSpec): string[] {
  const v: string[] = [];
  const podSc = spec.securityContext ?? {};
  if (spec.hostNetwork || spec.hostPID || spec.hostIPC) v.push('host namespaces are shared');
  for (const vol of spec.volumes ?? []) {
    const type = Object.keys(vol).find((k) => k !== 'name');
    if (type !== undefined && !ALLOWED_VOLUMES.includes(type)) v.push(`volume ${vol.name} has type ${type}`);
  }
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    const sc = c.securityContext ?? {};
    const at = `container ${c.name}`;
    if (sc.privileged === true) v.push(`${at} is privileged`);
    if (sc.allowPrivilegeEscalation !== false) v.push(`${at} does not set allowPrivilegeEscalation: false`);
    if (!(sc.runAsNonRoot ?? podSc.runAsNonRoot)) v.push(`${at} does not set runAsNonRoot: true`);
    if ((sc.runAsUser ?? podSc.runAsUser) === 0) v.push(`${at} runs as UID 0`);
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) v.push(`${at} does not drop ALL capabilities`);
    for (const cap of sc.capabilities?.add ?? []) if (cap !== 'NET_BIND_SERVICE') v.push(`${at} adds capability ${cap}`);
    if (!seccompOk(sc) && !seccompOk(podSc)) v.push(`${at} has no RuntimeDefault or Localhost seccomp profile`);
    for (const p of c.ports ?? []) if (p.hostPort) v.push(`${at} uses hostPort ${p.hostPort}`);
    if (sc.readOnlyRootFilesystem !== true) v.push(`${at} does not set readOnlyRootFilesystem: true`);
  }
  return v;
}

/** What the restricted profile asks of the pod securityContext the operator gives Prometheus or Alertmanager pods. */
function operatorPodViolations(sc: IPodSecurityContext): string[] {
  const v: string[] = [];
  if (sc.runAsNonRoot !== true) v.push('securityContext does not set runAsNonRoot: true');
  if (sc.runAsUser === 0 || sc.runAsUser === undefined) v.push('securityContext sets no non-root runAsUser');
  if (sc.fsGroup === undefined) v.push('securityContext sets no fsGroup (the volume would not be writable)');
  if (!seccompOk(sc)) v.push('securityContext has no RuntimeDefault seccomp profile');
  return v;
}

export function checkPodSecurity(objects: readonly K8sObject[]): Finding[] {
  const findings: Finding[] = [];
  for (const o of objects) {
    let violations: string[] = [];
    if (isKind(o, 'Pod')) violations = podSpecViolations(o.spec ?? NO_POD);
    else if (isWorkload(o)) violations = podSpecViolations(o.spec?.template?.spec ?? NO_POD);
    else if (isKind(o, 'Prometheus') || isKind(o, 'Alertmanager')) violations = operatorPodViolations(o.spec?.securityContext ?? {});
    for (const message of violations) {
      findings.push({
        check: 'pod-security-restricted',
        objects: [ref(o)],
        message: `${o.kind} ${o.metadata?.name}: ${message}`,
        fix: 'meet the Pod Security Standards restricted profile',
      });
    }
  }
  return findings;
}
