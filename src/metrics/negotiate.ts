/**
 * Which exposition format a scraper asked for. Express's `accepts` (negotiator) matches media
 * type parameters exactly, so Prometheus 3's offer (`application/openmetrics-text;
 * version=1.0.0;escaping=allow-utf-8;q=0.6,…`) matched none of ours and fell back to the text
 * format while Prometheus 2 got OpenMetrics: two scrapers, two formats. Here a media range
 * counts by its type and version alone; other parameters (escaping) do not concern a service
 * whose names are all legacy-valid.
 */

export type ExpositionFormat = 'text' | 'openmetrics';

/** OpenMetrics versions whose text this service writes (0.0.1 is the same text format). */
const OPENMETRICS_VERSIONS = new Set(['1.0.0', '0.0.1']);
/** Text format versions: 1.0.0 is 0.0.4 with UTF-8 names allowed; legacy names read the same. */
const TEXT_VERSIONS = new Set(['0.0.4', '1.0.0']);

interface MediaRange {
  readonly type: string;
  readonly params: Readonly<Record<string, string>>;
  readonly q: number;
  readonly order: number;
}

function parseAccept(header: string): MediaRange[] {
  return header
    .split(',')
    .map((part, order) => {
      const [type = '', ...rest] = part.split(';').map((s) => s.trim());
      const params: Record<string, string> = {};
      for (const p of rest) {
        const eq = p.indexOf('=');
        if (eq > 0)
          params[p.slice(0, eq).trim().toLowerCase()] = p
            .slice(eq + 1)
            .trim()
            .replace(/^"|"$/g, '');
      }
      const q = params.q === undefined ? 1 : Number(params.q);
      return { type: type.toLowerCase(), params, q: Number.isFinite(q) ? q : 0, order };
    })
    .filter((r) => r.type !== '' && r.q > 0);
}

function formatOf(range: MediaRange): ExpositionFormat | undefined {
  const version = range.params.version;
  if (range.type === 'application/openmetrics-text')
    return version === undefined || OPENMETRICS_VERSIONS.has(version) ? 'openmetrics' : undefined;
  if (range.type === 'text/plain') return version === undefined || TEXT_VERSIONS.has(version) ? 'text' : undefined;
  if (range.type === '*/*' || range.type === 'text/*') return 'text';
  return undefined;
}

/** The format for an `Accept` header: the servable range with the highest q, the first on ties; text without one. */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  if (accept === undefined || accept.trim() === '') return 'text';
  let best: { format: ExpositionFormat; q: number; order: number } | undefined;
  for (const range of parseAccept(accept)) {
    const format = formatOf(range);
    if (format === undefined) continue;
    if (best === undefined || range.q > best.q || (range.q === best.q && range.order < best.order))
      best = { format, q: range.q, order: range.order };
  }
  return best?.format ?? 'text';
}
