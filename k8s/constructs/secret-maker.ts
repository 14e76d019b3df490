/**
 * The pieces every in-cluster Secret maker shares (k8s/ensure-secret.ts runs in them): the
 * container that runs the script with the API image's node, its token, and its RBAC. The
 * development database's pod runs it as an init container; the API keys' Job as its only one.
 */
import { createHash } from 'node:crypto';
import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import type { DeployConfig } from '../config';
import { ENSURE_SECRET_SCRIPT, ensureSecretRules } from '../ensure-secret';
import type { SecretSpec } from '../ensure-secret';
import { imageRef, RESTRICTED_SECCOMP } from '../labels';
import type { Labels } from '../labels';

const TOKEN_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** JSON with sorted keys, as Helm's toJson prints a map. */
export function sortedJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

export const RESTRICTED_CONTAINER = {
  runAsNonRoot: true,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  privileged: false,
  capabilities: { drop: ['ALL'] },
  seccompProfile: RESTRICTED_SECCOMP,
} as const;

/** A token for the maker alone: the pod's other containers get none (automountServiceAccountToken: false). */
export const TOKEN_VOLUME = {
  name: 'token',
  projected: {
    sources: [
      { serviceAccountToken: { path: 'token', expirationSeconds: 3600 } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
    ],
  },
} as const;

export interface SecretMaker {
  readonly secret: string;
  readonly spec: SecretSpec;
  /** Labels the Secret is created with. */
  readonly labels: Labels;
}

/** The environment of the script: which Secret, what it holds, and its labels. */
function makerEnv(m: SecretMaker): Record<string, unknown>[] {
  return [
    { name: 'SECRET_NAME', value: m.secret },
    { name: 'SECRET_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    { name: 'SECRET_SPEC', value: sortedJson(m.spec) },
    { name: 'SECRET_LABELS', value: sortedJson(m.labels) },
  ];
}

/** The container that creates the Secret if it is missing and completes it if keys are. */
export function secretMakerContainer(c: DeployConfig, m: SecretMaker): Record<string, unknown> {
  return {
    name: 'ensure-secret',
    image: imageRef(c.image),
    imagePullPolicy: c.image.pullPolicy,
    command: ['node', '-e', ENSURE_SECRET_SCRIPT],
    env: makerEnv(m),
    resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '64Mi' } },
    securityContext: RESTRICTED_CONTAINER,
    volumeMounts: [{ name: 'token', mountPath: TOKEN_DIR, readOnly: true }],
  };
}

/**
 * Eight hex digits that change whenever the maker's pod would: a Job's pod template cannot be
 * changed in place, so a Job named with it is replaced (a new name) instead of refused on apply.
 * The chart computes the same digest from the same text (templates/api-keys-job.yaml).
 */
export function makerDigest(c: DeployConfig, m: SecretMaker): string {
  const text = [
    imageRef(c.image),
    c.image.pullPolicy,
    c.image.pullSecrets.join(','),
    m.secret,
    sortedJson(m.spec),
    sortedJson(m.labels),
    ENSURE_SECRET_SCRIPT,
  ].join('\n');
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/** The maker's ServiceAccount, and a Role and RoleBinding that let it create and complete this one Secret. */
export function secretMakerRbac(scope: Construct, c: DeployConfig, name: string, secret: string, labels: Labels): void {
  new ApiObject(scope, 'service-account', {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name, labels },
    automountServiceAccountToken: false,
  });
  new ApiObject(scope, 'role', {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: `${name}-secret`, labels },
    rules: ensureSecretRules(secret),
  });
  new ApiObject(scope, 'role-binding', {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: `${name}-secret`, labels },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: `${name}-secret` },
    subjects: [{ kind: 'ServiceAccount', name, namespace: c.namespace }],
  });
}
