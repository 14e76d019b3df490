/**
 * `npm run monitoring:local`: the guide's setup without Kubernetes, in one command. Starts the
 * API (fault injection on, for the load recipes), a real Prometheus with the generated
 * dist/local/prometheus.yml and alert rules (15-day retention, data in .monitoring/), and an
 * Alertmanager and a Grafana with the generated dashboard when installed. Ctrl-C stops everything.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadDeployConfig } from '../k8s/config';
import { LOCAL_ALERTMANAGER_FILE, LOCAL_CONFIG_FILE } from '../k8s/local';
import { dashboardUid } from '../k8s/dashboard/dashboard';
import { LOCAL_GRAFANA_DIR } from '../k8s/grafana-local';
import { synth } from '../k8s/main';
import { grafanaBinary, startGrafana } from './lib/grafana';
import { runMain } from './lib/main';
import type { Managed } from './lib/processes';
import { alertmanagerBinary, PROJECT_ROOT, prometheusBinary, startAlertmanager, startApi, startPrometheus } from './lib/processes';

const portOf = (hostPort: string): number => Number(hostPort.split(':').pop());

async function main(): Promise<void> {
  if (prometheusBinary() === undefined) {
    process.stderr.write(
      'Prometheus is not installed. Install it and run this again:\n' +
        '  Debian/Ubuntu:  sudo apt-get install prometheus prometheus-alertmanager\n' +
        '  macOS:          brew install prometheus alertmanager\n' +
        '  elsewhere:      https://prometheus.io/download/\n',
    );
    process.exit(1);
  }
  const config = loadDeployConfig();
  const out = join(PROJECT_ROOT, 'dist');
  synth(config, out);
  const state = join(PROJECT_ROOT, '.monitoring');
  mkdirSync(join(state, 'prometheus'), { recursive: true });
  mkdirSync(join(state, 'alertmanager'), { recursive: true });

  const running: Managed[] = [];
  const stopAll = async (): Promise<void> => {
    for (const p of running.reverse()) await p.stop('SIGTERM');
  };
  process.once('SIGINT', () => void stopAll().then(() => process.exit(0)));
  process.once('SIGTERM', () => void stopAll().then(() => process.exit(0)));

  try {
    const apiPort = portOf(config.local.target);
    running.push(
      await startApi(apiPort, { FAULT_INJECTION: 'true', DATA_DIR: join(PROJECT_ROOT, 'data'), LOG_LEVEL: 'warn' }, process.stderr),
    );
    let alertmanager: Managed | undefined;
    if (alertmanagerBinary() !== undefined) {
      alertmanager = await startAlertmanager({
        configFile: join(out, 'local', LOCAL_ALERTMANAGER_FILE),
        dataDir: join(state, 'alertmanager'),
        port: portOf(config.local.alertmanager),
      });
      running.push(alertmanager);
    }
    const prometheus = await startPrometheus({
      configFile: join(out, 'local', LOCAL_CONFIG_FILE),
      dataDir: join(state, 'prometheus'),
      port: 9090,
      retention: config.prometheus.retention,
    });
    running.push(prometheus);
    let grafana: Managed | undefined;
    if (grafanaBinary() !== undefined) {
      mkdirSync(join(state, 'grafana'), { recursive: true });
      grafana = await startGrafana({ workDir: join(out, LOCAL_GRAFANA_DIR), dataDir: join(state, 'grafana'), port: 3000 });
      running.push(grafana);
    }

    process.stdout.write(
      [
        '',
        `API            http://localhost:${apiPort}          (fault injection on: x-fault-status, x-fault-delay-ms)`,
        `Prometheus     http://localhost:9090/targets  (the ${config.name} target should be UP within ${config.serviceMonitor.interval})`,
        `Alerts         http://localhost:9090/alerts`,
        alertmanager !== undefined
          ? `Alertmanager   ${alertmanager.url.replace('127.0.0.1', 'localhost')}`
          : 'Alertmanager   not installed (apt-get install prometheus-alertmanager): alerts fire in Prometheus only',
        grafana !== undefined
          ? `Grafana        http://localhost:3000/d/${dashboardUid(config.name)}  (the generated dashboard; anonymous viewer)`
          : 'Grafana        not installed: the dashboard is in dist/grafana/ (import it, or install Grafana and run this again)',
        `Data           ${join(state, 'prometheus')} (retention ${config.prometheus.retention})`,
        '',
        'Generate traffic in another terminal: npm run load -- --help',
        'Ctrl-C stops everything.',
        '',
      ].join('\n'),
    );
  } catch (err) {
    await stopAll();
    throw err;
  }
}

runMain('monitoring:local', main);
