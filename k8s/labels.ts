/** Recommended `app.kubernetes.io/*` labels; selector labels are a stable subset (no version). */
import type { DeployConfig } from './config';

export type Labels = Record<string, string>;

export function selectorLabels(c: DeployConfig, component: string): Labels {
  return {
    'app.kubernetes.io/name': component === 'api' ? c.name : `${c.name}-${component}`,
    'app.kubernetes.io/instance': c.instance,
    'app.kubernetes.io/component': component,
  };
}

export function commonLabels(c: DeployConfig, component: string, version: string): Labels {
  return {
    ...selectorLabels(c, component),
    'app.kubernetes.io/version': version,
    'app.kubernetes.io/part-of': c.name,
    'app.kubernetes.io/managed-by': 'cdk8s',
  };
}

/** PSS `restricted` pod-level settings shared by every workload. */
export const RESTRICTED_SECCOMP = { type: 'RuntimeDefault' } as const;
