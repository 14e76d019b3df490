/**
 * A minimal renderer for exactly the Helm template expressions the generated chart uses (no
 * helm binary here): `.Values.x`, `| quote`, `.Release.Namespace`, `toYaml | nindent N`,
 * `with`/`end` around one line, `if`/`end` around a whole template, and the escaped braces `{{ "{{" }}` / `{{ "}}" }}`. Anything
 * else is an error, so the chart cannot start using an expression this renderer fakes.
 */
import { stringify } from 'yaml';

const OPEN = '\u0001';
const CLOSE = '\u0002';

function lookup(values: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], values);
}

export const ALLOWED_EXPRESSIONS: readonly RegExp[] = [
  /^\{\{ "\{\{" \}\}$/,
  /^\{\{ "\}\}" \}\}$/,
  /^\{\{ \.Values\.[\w.]+( \| quote)? \}\}$/,
  /^\{\{ \.Release\.Namespace \}\}$/,
  /^\{\{- toYaml \.Values\.[\w.]+ \| nindent \d+ \}\}$/,
  /^\{\{- with \.Values\.[\w.]+ \}\}$/,
  /^\{\{- if \.Values\.[\w.]+ \}\}$/,
  /^\{\{ \. \| quote \}\}$/,
  /^\{\{- end \}\}$/,
];

export function renderTemplate(template: string, values: unknown, namespace: string): string {
  const quote = (v: unknown) => JSON.stringify(String(v));
  let text = template.replaceAll('{{ "{{" }}', OPEN).replaceAll('{{ "}}" }}', CLOSE);
  // if .Values.x ... end around the whole template: the object exists when the value is true.
  text = text.replace(/\{\{- if \.Values\.([\w.]+) \}\}\n([\s\S]*)\{\{- end \}\}\n$/, (_m, path: string, body: string) => (lookup(values, path) === true ? body : ''));
  // with .Values.x ... end: keep the body (with `.` = the value) when the value is non-empty.
  text = text.replace(/\s*\{\{- with \.Values\.([\w.]+) \}\}([\s\S]*?)\s*\{\{- end \}\}/g, (_m, path: string, body: string) => {
    const v = lookup(values, path);
    return v === undefined || v === '' || v === null ? '' : body.replaceAll('{{ . | quote }}', quote(v));
  });
  text = text.replace(/\s*\{\{- toYaml \.Values\.([\w.]+) \| nindent (\d+) \}\}/g, (_m, path: string, n: string) => {
    const pad = ' '.repeat(Number(n));
    return '\n' + stringify(lookup(values, path)).trimEnd().split('\n').map((l) => pad + l).join('\n');
  });
  text = text.replace(/\{\{ \.Values\.([\w.]+)( \| quote)? \}\}/g, (_m, path: string, q: string | undefined) => {
    const v = lookup(values, path);
    if (v === undefined) throw new Error(`.Values.${path} is not in values.yaml`);
    return q ? quote(v) : String(v);
  });
  text = text.replaceAll('{{ .Release.Namespace }}', namespace);
  const leftover = /\{\{.*?\}\}/.exec(text);
  if (leftover !== null) throw new Error(`expression the renderer does not know: ${leftover[0]}`);
  return text.replaceAll(OPEN, '{{').replaceAll(CLOSE, '}}');
}
