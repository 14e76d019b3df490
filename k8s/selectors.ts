/**
 * The series selector of one install of the app, shared by every alert, recording rule and
 * dashboard query: scoped by `namespace` and `job`, so two installs in one Prometheus (two
 * namespaces, or next to other apps) never mix their series.
 */

/** `namespace="<ns>",job="<name>"`: the labels every target of this install carries. */
export function appSelector(c: { readonly name: string; readonly namespace: string }): string {
  return `namespace="${c.namespace}",job="${c.name}"`;
}
