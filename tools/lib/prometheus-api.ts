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

async function get<T>(base: string, path: string, params: Record<string, string> = {}): Promise<T> {
  const url = new URL(path, base);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  const res = await fetch(url);
  const body = (await res.json()) as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(`${url.pathname}: ${body.error ?? res.status}`);
  return body.data;
}

export class PrometheusApi {
  constructor(readonly baseUrl: string) {}

  async query(promql: string, time?: Date): Promise<Sample[]> {
    const data = await get<{ resultType: string; result: Sample[] }>(this.baseUrl, '/api/v1/query', {
      query: promql,
      ...(time !== undefined && { time: String(time.getTime() / 1000) }),
    });
    return data.result;
  }

  async targets(): Promise<Target[]> {
    return (await get<{ activeTargets: Target[] }>(this.baseUrl, '/api/v1/targets', { state: 'active' })).activeTargets;
  }

  async ruleGroups(): Promise<RuleGroupState[]> {
    return (await get<{ groups: RuleGroupState[] }>(this.baseUrl, '/api/v1/rules')).groups;
  }

  async alerts(): Promise<ActiveAlert[]> {
    return (await get<{ alerts: ActiveAlert[] }>(this.baseUrl, '/api/v1/alerts')).alerts;
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
