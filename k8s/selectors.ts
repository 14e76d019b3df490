/**
 * The series selector of one install of the app, shared by every alert, recording rule and
 * dashboard query: scoped by `namespace` and `job`, so two installs in one Prometheus (two
 * namespaces, or next to other apps) never mix their series.
 */
import type { DeployConfig } from './config';

/** `namespace="<ns>",job="<name>"`: the labels every target of this install carries. */
export function appSelector(c: Pick<DeployConfig, 'name' | 'namespace'>): string {
  return `namespace="${c.namespace}",job="${c.name}"`;
}
