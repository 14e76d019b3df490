/**
 * How deep a JSON text nests, read from its bytes before it is parsed. The API's bodies nest two
 * levels (an object holding the `tags` array); a limit far above that refuses deep bodies whose
 * parsing and validation would cost depth × size, without refusing any real request.
 */

/** Deepest nesting of objects and arrays a JSON body may have. */
export const MAX_JSON_DEPTH = 32;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/**
 * Whether `buf`, read as JSON, opens more than `max` objects or arrays at once. Brackets inside
 * strings do not count. One pass over the bytes; malformed JSON is left to the parser.
 */
export function exceedsDepth(buf: Uint8Array, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i];
    if (inString) {
      if (b === BACKSLASH) i++;
      else if (b === QUOTE) inString = false;
    } else if (b === QUOTE) inString = true;
    else if (b === OPEN_BRACE || b === OPEN_BRACKET) {
      if (++depth > max) return true;
    } else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) depth--;
  }
  return false;
}
