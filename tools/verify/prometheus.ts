/** Asks Prometheus itself: is the app's target UP, are its rules loaded, which alerts are active. */
import type { PrometheusApi } from '../lib/prometheus-api';
import type { Checklist } from './checklist';

const ago = (iso: string): string => {
  const s = (Date.now() - new Date(iso).getTime()) / 1000;
  return Number.isFinite(s) && s >= 0 && s < 1e9 ? `${s.toFixed(1)}s ago` : 'never';
};

/** The install to look for: its job and namespace (two installs in one Prometheus share the job). */
export interface Install {
  readonly job: string;
  readonly namespace: string;
}

export async function addPrometheusChecks(
  list: Checklist,
  prom: PrometheusApi,
  install: Install,
  alertNames: readonly string[],
  where: string,
): Promise<void> {
  const { job, namespace } = install;
  const mine = (labels: Record<string, string>) => labels.job === job && labels.namespace === namespace;
  let targets;
  try {
    targets = (await prom.targets()).filter((t) => mine(t.labels));
  } catch (err) {
    list.fail(
      'prometheus-reachable',
      `Prometheus answers (${where})`,
      'check the URL, or that the Prometheus pods are running',
      (err as Error).message,
    );
    return;
  }
  list.pass('prometheus-reachable', `Prometheus answers (${where})`);
  if (targets.length === 0) {
    list.fail(
      'target-up',
      `Prometheus scrapes job ${job}`,
      'run the wiring checks (npm run verify -- --manifests dist) to find the broken link',
      `Prometheus has no target of job "${job}" in namespace ${namespace}: it does not try to scrape the app`,
    );
  } else {
    const down = targets.filter((t) => t.health !== 'up');
    const lines = targets.map(
      (t) => `${t.scrapeUrl}: ${t.health.toUpperCase()}, last scrape ${ago(t.lastScrape)}${t.lastError ? `, error: ${t.lastError}` : ''}`,
    );
    if (down.length === 0) list.pass('target-up', `all ${targets.length} target(s) of job ${job} are UP`, ...lines);
    else
      list.fail(
        'target-up',
        `all targets of job ${job} are UP`,
        'see the scrape error: is the pod ready, the port right, the NetworkPolicy open?',
        ...lines,
      );
  }

  const groups = await prom.ruleGroups();
  const rules = groups.flatMap((g) => g.rules.map((r) => ({ ...r, group: g.name })));
  const missing = alertNames.filter((a) => !rules.some((r) => r.name === a));
  const broken = rules.filter((r) => alertNames.includes(r.name) && (r.health !== 'ok' || r.lastError));
  if (missing.length > 0) {
    list.fail(
      'rules-loaded',
      'the alert rules are loaded',
      'check that a Prometheus selects the PrometheusRule (or that rule_files names alert_rules.yml)',
      `not loaded: ${missing.join(', ')}`,
    );
  } else if (broken.length > 0) {
    list.fail(
      'rules-loaded',
      'the alert rules evaluate without errors',
      'fix the rule expressions',
      ...broken.map((r) => `${r.name}: ${r.health} ${r.lastError ?? ''}`),
    );
  } else {
    list.pass('rules-loaded', `all ${alertNames.length} alert rules are loaded and evaluate without errors`);
  }

  const active = (await prom.alerts()).filter((a) => alertNames.includes(a.labels.alertname ?? '') && a.labels.namespace === namespace);
  if (active.length === 0) list.pass('alerts', 'no alert of the app is pending or firing');
  else {
    list.add({
      id: 'alerts',
      title: `${active.length} alert(s) of the app pending or firing`,
      status: 'warn',
      details: active.map(
        (a) =>
          `${a.state.toUpperCase()} ${a.labels.alertname} ${JSON.stringify(Object.fromEntries(Object.entries(a.labels).filter(([k]) => k !== 'alertname')))} since ${a.activeAt}`,
      ),
    });
  }
}
