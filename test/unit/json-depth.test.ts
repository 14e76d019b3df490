import { exceedsDepth } from '../../src/http/json-depth';

describe('exceedsDepth', () => {
  it.each([
    ['[]', 1, false],
    ['[[]]', 1, true],
    ['{"a":[{"b":[]}]}', 4, false],
    ['{"a":[{"b":[]}]}', 3, true],
    ['["[[[[", "{{{{"]', 1, false],
    ['["\\"[[[["]', 1, false],
    ['["\\\\", [[]]]', 2, true],
    ['{"a":1}{"b":[[]]}', 2, true],
    ['"just a string"', 0, false],
  ])('%s with a limit of %d: %s', (text, max, expected) => {
    expect(exceedsDepth(Buffer.from(text), max)).toBe(expected);
  });

  it('agrees with the parsed value on random nestings', () => {
    const depthOf = (v: unknown): number =>
      typeof v === 'object' && v !== null ? 1 + Math.max(0, ...Object.values(v as Record<string, unknown>).map(depthOf)) : 0;
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const make = (d: number): unknown =>
      d === 0 || rnd() < 0.2
        ? rnd() < 0.5
          ? '[{"}]\\'
          : 1
        : rnd() < 0.5
          ? [make(d - 1), make(d - 1)]
          : { k: make(d - 1), '[': make(d - 1) };
    for (let i = 0; i < 200; i++) {
      const text = JSON.stringify(make(8));
      const depth = depthOf(JSON.parse(text));
      expect(exceedsDepth(Buffer.from(text), depth)).toBe(false);
      if (depth > 0) expect(exceedsDepth(Buffer.from(text), depth - 1)).toBe(true);
    }
  });
});
