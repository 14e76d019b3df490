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

/** Bound on one API call. */
const TIMEOUT_MS = 15_000;

/**
 * Prometheus answers a failed call with a non-2xx status and a JSON body saying why
 * (`{"status":"error","error":...}`); that body is passed on, so the caller reports the reason.
 * A non-2xx answer without one (a proxy's 502, a wrong URL's 404) is an error here.
 */
export function httpTransport(baseUrl: string): JsonTransport {
  return async (path, params) => {
    const url = new URL(path, baseUrl);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error(`${url.origin}${path} answered ${res.status} without JSON: ${text.slice(0, 200)}`);
    }
    if (!res.ok && !isApiError(body)) throw new Error(`${url.origin}${path} answered ${res.status}: ${text.slice(0, 200)}`);
    return body;
  };
}

function isApiError(body: unknown): body is { status: 'error'; error: string } {
  return typeof body === 'object' && body !== null && 'status' in body && body.status === 'error' && 'error' in body;
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
  const res = await fetch(new URL('/api/v2/alerts', baseUrl), { signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (!res.ok) throw new Error(`Alertmanager /api/v2/alerts answered ${res.status}`);
  return (await res.json()) as AlertmanagerAlert[];
}
