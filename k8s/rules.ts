/**
 * The shapes of Prometheus rules and rule groups, shared by the alerts, the recording rules, the
 * SLO rules and the chart generator. A rule built from printed values (k8s/printed.ts) may carry
 * `when`: a printed boolean; the synth keeps the rule unless it is `false`, the chart wraps it in
 * `{{- if <that value> }}`.
 */

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: { readonly severity: string };
  readonly annotations: { readonly summary: string; readonly description: string; readonly runbook_url: string };
  readonly when?: string;
}

export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly when?: string;
}

export type Rule = AlertRule | RecordingRule;

export interface RuleGroup<R = Rule> {
  readonly name: string;
  readonly rules: readonly R[];
}

/** The groups as Prometheus reads them: rules whose `when` is false dropped, then empty groups. */
export function resolveWhen<R extends { readonly when?: string }>(groups: readonly RuleGroup<R>[]): RuleGroup<R>[] {
  return groups
    .map((g) => ({
      name: g.name,
      rules: g.rules
        .filter((r) => r.when !== 'false')
        .map((r) => {
          const rule: { when?: string } = { ...r };
          delete rule.when;
          return rule as R;
        }),
    }))
    .filter((g) => g.rules.length > 0);
}
