/**
 * Every rule group of one install, by the plain rule file that holds it: one source for the
 * PrometheusRule (all groups) and for the files dist/local/prometheus.yml loads.
 */
import { ruleGroups } from './alerts';
import type { DeployConfig } from './config';
import { recordingRuleGroup } from './recording-rules';
import type { MixedRuleGroup } from './rules';
import { appSelector } from './selectors';
import { sloRuleGroups } from './slo';

export const LOCAL_RECORDING_RULES_FILE = 'recording_rules.yml';
export const LOCAL_SLO_RULES_FILE = 'slo_rules.yml';

/** The guide's alerts stay in alert_rules.yml (named by local.ts); these files come after it. */
export function extraRuleFiles(c: DeployConfig): Record<string, MixedRuleGroup[]> {
  const selector = appSelector(c);
  return {
    [LOCAL_RECORDING_RULES_FILE]: [recordingRuleGroup(selector, `${c.name}.recording`)],
    [LOCAL_SLO_RULES_FILE]: sloRuleGroups({ selector, slo: c.slo, runbookBaseUrl: c.alerts.runbookBaseUrl, groupPrefix: c.name }),
  };
}

/** All groups of the PrometheusRule, in file order. */
export function allRuleGroups(c: DeployConfig): MixedRuleGroup[] {
  return [...ruleGroups(c), ...Object.values(extraRuleFiles(c)).flat()];
}
