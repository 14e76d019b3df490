/** Recommended `app.kubernetes.io/*` labels; selector labels are a stable subset (no version). */
import type { DeployConfig } from './config';

export type Labels = Record<string, string>;

export function selectorLabels(c: Pick<DeployConfig, 'name' | 'instance'>, component: string): Labels {
  return {
    'app.kubernetes.io/name': component === 'api' ? c.name : `${c.name}-${component}`,
    'app.kubernetes.io/instance': c.instance,
    'app.kubernetes.io/component': component,
  };
}

/**
 * An image tag as a label value: characters a label cannot hold become `-`, at most 63, no
 * separator at either end (the chart's `rest-api.version` helper does the same).
 */
export function versionLabel(tag: string): string {
  return tag
    .replace(/[^-A-Za-z0-9_.]/g, '-')
    .slice(0, 63)
    .replace(/^[-_.]+|[-_.]+$/g, '');
}

/** The labels of every object: the config's commonLabels, then the recommended ones (which win). */
export function commonLabels(c: DeployConfig, component: string, version: string): Labels {
  return {
    ...c.commonLabels,
    ...selectorLabels(c, component),
    'app.kubernetes.io/version': versionLabel(version),
    'app.kubernetes.io/part-of': c.name,
    'app.kubernetes.io/managed-by': 'cdk8s',
  };
}

/**
 * The API image: by digest when one is set (the tag then only labels it), or when the tag is a
 * bare digest (`repository:sha256:…` is no image reference); else by tag.
 */
export function imageRef(image: DeployConfig['image']): string {
  const digest = image.digest ?? (image.tag.startsWith('sha256:') ? image.tag : undefined);
  return digest !== undefined ? `${image.repository}@${digest}` : `${image.repository}:${image.tag}`;
}

/** PSS `restricted` pod-level settings shared by every workload. */
export const RESTRICTED_SECCOMP = { type: 'RuntimeDefault' } as const;
