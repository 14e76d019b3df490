/**
 * Finding which JSON string holds invalid UTF-8. A decoder would silently turn such bytes into
 * U+FFFD, so the stored text would differ from what was sent; the body is refused instead, and
 * to name the field the bytes are decoded with each invalid byte mapped to a lone surrogate
 * (U+DC80–U+DCFF, Python's "surrogateescape"), which no valid UTF-8 text can contain.
 */

const ESCAPE_BASE = 0xdc00;
const ESCAPED = /[\uDC80-\uDCFF]/;

/** Length of the valid UTF-8 sequence starting at `i`, or 0 when the byte there starts none. */
function sequenceLength(buf: Uint8Array, i: number): number {
  const b = buf[i]!;
  if (b < 0x80) return 1;
  let need: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (b >= 0xc2 && b <= 0xdf) need = 1;
  else if (b >= 0xe0 && b <= 0xef) {
    need = 2;
    if (b === 0xe0) lo = 0xa0; // overlong
    if (b === 0xed) hi = 0x9f; // UTF-16 surrogates
  } else if (b >= 0xf0 && b <= 0xf4) {
    need = 3;
    if (b === 0xf0) lo = 0x90; // overlong
    if (b === 0xf4) hi = 0x8f; // above U+10FFFF
  } else return 0;
  if (i + need >= buf.length) return 0; // truncated
  const second = buf[i + 1]!;
  if (second < lo || second > hi) return 0;
  for (let k = 2; k <= need; k++) {
    const c = buf[i + k]!;
    if (c < 0x80 || c > 0xbf) return 0;
  }
  return need + 1;
}

/** `buf` as text, each byte that is not part of valid UTF-8 becoming U+DC80 + (byte - 0x80). */
export function decodeEscapingInvalid(buf: Buffer): string {
  let out = '';
  let start = 0;
  let i = 0;
  while (i < buf.length) {
    const n = sequenceLength(buf, i);
    if (n > 0) {
      i += n;
      continue;
    }
    out += buf.toString('utf8', start, i) + String.fromCharCode(ESCAPE_BASE + buf[i]!);
    i += 1;
    start = i;
  }
  return out + buf.toString('utf8', start, buf.length);
}

/**
 * JSON Pointer paths (as key lists) of the first `max` strings, keys or values, holding an
 * escaped byte, and how many more there are. The walk keeps one path and copies it only for the
 * strings it lists, so its work stays proportional to the value's size.
 */
export function pathsWithEscapes(value: unknown, max: number): { paths: (string | number)[][]; omitted: number } {
  const paths: (string | number)[][] = [];
  let omitted = 0;
  const path: (string | number)[] = [];
  const found = (): void => {
    if (paths.length < max) paths.push([...path]);
    else omitted++;
  };
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      if (ESCAPED.test(v)) found();
    } else if (Array.isArray(v)) {
      v.forEach((item, i) => {
        path.push(i);
        walk(item);
        path.pop();
      });
    } else if (typeof v === 'object' && v !== null) {
      for (const [k, item] of Object.entries(v)) {
        path.push(k);
        if (ESCAPED.test(k)) found();
        else walk(item);
        path.pop();
      }
    }
  };
  walk(value);
  return { paths, omitted };
}
