/**
 * A local Grafana for `npm run monitoring:local`, provisioned from dist/local/grafana/ (the
 * Prometheus data source and the generated dashboard). Grafana is optional: without it the rest
 * runs as before.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Managed } from './processes';
import { findBinary, startProcess } from './processes';

/** Grafana 10+ ships `grafana server`; older packages `grafana-server`. */
export const grafanaBinary = (): string | undefined => findBinary('grafana', 'grafana-server');

/** Where Grafana's own files (conf/defaults.ini, public/) are: GRAFANA_HOME, or the Debian/RPM/Homebrew location. */
function grafanaHome(): string | undefined {
  return [process.env.GRAFANA_HOME, '/usr/share/grafana', '/opt/homebrew/share/grafana', '/usr/local/share/grafana'].find(
    (d) => d !== undefined && existsSync(d),
  );
}

export interface GrafanaOptions {
  /** dist/local/grafana: Grafana's working directory, holding provisioning/. */
  readonly workDir: string;
  readonly dataDir: string;
  readonly port: number;
  readonly echo?: NodeJS.WritableStream;
}

export async function startGrafana(o: GrafanaOptions): Promise<Managed> {
  const binary = grafanaBinary();
  if (binary === undefined)
    throw new Error('grafana is not installed (https://grafana.com/docs/grafana/latest/setup-grafana/installation/)');
  const home = grafanaHome();
  const url = `http://127.0.0.1:${o.port}`;
  return startProcess(
    'Grafana',
    binary,
    [
      ...(binary === 'grafana' ? ['server'] : []),
      ...(home !== undefined ? [`--homepath=${home}`] : []),
      `cfg:default.paths.provisioning=${join(o.workDir, 'provisioning')}`,
      `cfg:default.paths.data=${o.dataDir}`,
      `cfg:default.paths.logs=${join(o.dataDir, 'log')}`,
      'cfg:default.server.http_addr=127.0.0.1',
      `cfg:default.server.http_port=${o.port}`,
      // A local, loopback-only Grafana: look without logging in.
      'cfg:default.auth.anonymous.enabled=true',
      'cfg:default.auth.anonymous.org_role=Viewer',
      'cfg:default.analytics.reporting_enabled=false',
      'cfg:default.analytics.check_for_updates=false',
    ],
    { url, readyUrl: `${url}/api/health`, echo: o.echo, cwd: o.workDir, timeoutMs: 60_000 },
  );
}
