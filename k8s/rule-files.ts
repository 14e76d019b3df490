/**
 * Every rule group of one install, by the plain rule file that holds it: one source for the
 * PrometheusRule (all groups), the files dist/local/prometheus.yml loads, and the chart's
 * generated rule groups (from printed Helm expressions).
 */
import { alertGroups, withRunbooks } from './alerts';
import type { DeployConfig } from './config';
import { printedValues } from './printed';
import type { PrintedValues } from './printed';
import { recordingRuleGroup } from './recording-rules';
import { resolveWhen } from './rules';
import type { RuleGroup } from './rules';
import { appSelector } from './selectors';
import { sloRuleGroups } from './slo';

export const LOCAL_RULES_FILE = 'alert_rules.yml';
export const LOCAL_RECORDING_RULES_FILE = 'recording_rules.yml';
export const LOCAL_SLO_RULES_FILE = 'slo_rules.yml';

/** The groups of each rule file, from printed values, runbook links added in one pass; `when` still on the rules. */
export function printedRuleFiles(p: PrintedValues): Record<string, RuleGroup[]> {
  const selector = appSelector(p);
  const files = {
    [LOCAL_RULES_FILE]: alertGroups(p),
    [LOCAL_RECORDING_RULES_FILE]: [recordingRuleGroup(selector, `${p.name}.recording`, p.scaling)],
    [LOCAL_SLO_RULES_FILE]: sloRuleGroups(p, selector),
  };
  return Object.fromEntries(Object.entries(files).map(([file, groups]) => [file, withRunbooks(groups, p.alerts.runbookBaseUrl)]));
}

/** The groups of each rule file of a resolved config, as Prometheus loads them. */
export function ruleFiles(c: DeployConfig): Record<string, RuleGroup[]> {
  return Object.fromEntries(Object.entries(printedRuleFiles(printedValues(c))).map(([file, groups]) => [file, resolveWhen(groups)]));
}

/** All groups of the PrometheusRule, in file order, then the users' own (prometheusRule.additionalRuleGroups). */
export function allRuleGroups(c: DeployConfig): RuleGroup[] {
  return [...Object.values(ruleFiles(c)).flat(), ...(c.prometheusRule.additionalRuleGroups as unknown as RuleGroup[])];
}
