/** A small client of the Prometheus HTTP API (v1) and the Alertmanager API (v2). */

export interface Sample {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

export interface Target {
  readonly labels: Record<string, string>;
  readonly scrapePool: string;
  readonly health: 'up' | 'down' | 'unknown';
  readonly lastError: string;
  readonly lastScrape: string;
  readonly scrapeUrl: string;
}

export interface RuleGroupState {
  readonly name: string;
  readonly file: string;
  readonly rules: readonly { name: string; type: string; health: string; lastError?: string; state?: string }[];
}

export interface ActiveAlert {
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly state: 'pending' | 'firing';
  readonly activeAt: string;
  readonly value: string;
}

/** GETs `path` (e.g. `/api/v1/targets`) with query `params` and returns the parsed JSON body. */
export type JsonTransport = (path: string, params: Record<string, string>) => Promise<unknown>;

export function httpTransport(baseUrl: string): JsonTransport {
  return async (path, params) => {
    const url = new URL(path, baseUrl);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    return (await fetch(url)).json();
  };
}

export class PrometheusApi {
  private readonly transport: JsonTransport;

  /** @param target the Prometheus base URL, or a transport (e.g. through the API server's service proxy) */
  constructor(target: string | JsonTransport) {
    this.transport = typeof target === 'string' ? httpTransport(target) : target;
  }

  private async get<T>(path: string, params: Record<string, string> = {}): Promise<T> {
    const body = (await this.transport(path, params)) as { status: string; data: T; error?: string };
    if (body?.status !== 'success') throw new Error(`${path}: ${body?.error ?? 'no answer'}`);
    return body.data;
  }

  async query(promql: string, time?: Date): Promise<Sample[]> {
    const data = await this.get<{ resultType: string; result: Sample[] }>('/api/v1/query', {
      query: promql,
      ...(time !== undefined && { time: String(time.getTime() / 1000) }),
    });
    return data.result;
  }

  async targets(): Promise<Target[]> {
    return (await this.get<{ activeTargets: Target[] }>('/api/v1/targets', { state: 'active' })).activeTargets;
  }

  async ruleGroups(): Promise<RuleGroupState[]> {
    return (await this.get<{ groups: RuleGroupState[] }>('/api/v1/rules')).groups;
  }

  async alerts(): Promise<ActiveAlert[]> {
    return (await this.get<{ alerts: ActiveAlert[] }>('/api/v1/alerts')).alerts;
  }
}

export interface AlertmanagerAlert {
  readonly labels: Record<string, string>;
  readonly status: { state: string };
  readonly startsAt: string;
}

export async function alertmanagerAlerts(baseUrl: string): Promise<AlertmanagerAlert[]> {
  const res = await fetch(new URL('/api/v2/alerts', baseUrl));
  if (res.status !== 200) throw new Error(`Alertmanager /api/v2/alerts answered ${res.status}`);
  return (await res.json()) as AlertmanagerAlert[];
}
