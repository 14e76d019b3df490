import { Writable } from 'node:stream';
import { createLogger } from '../../src/logger';
import { redact } from '../../src/redact';

const SECRET = 's3cr3t-Pa55';

describe('redact', () => {
  it.each([
    ['a URL with user and password', `postgres://app:${SECRET}@db:5432/items`, 'postgres://app:***@db:5432/items'],
    [
      'a password with an unescaped @ and /',
      `postgres://app:p@ss/${SECRET}@db/items?sslmode=verify-full`,
      'postgres://app:***@db/items?sslmode=verify-full',
    ],
    [
      'a URL inside a sentence and quotes',
      `DATABASE_URL="postgresql://u:${SECRET}@h/d": bad`,
      'DATABASE_URL="postgresql://u:***@h/d": bad',
    ],
    ['a password parameter', `postgres://db/items?password=${SECRET}&sslmode=require`, 'postgres://db/items?password=***&sslmode=require'],
    ['a libpq key=value string', `host=db password='${SECRET} x' user=app`, 'host=db password=*** user=app'],
    [
      'a URL without a password (unchanged)',
      'postgres://postgres@127.0.0.1:55432/postgres',
      'postgres://postgres@127.0.0.1:55432/postgres',
    ],
  ])('hides the password in %s', (_case, text, expected) => {
    expect(redact(text)).toBe(expected);
  });
});

describe('the logger', () => {
  function capture(): { lines: string[]; stream: Writable } {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    return { lines, stream };
  }

  it('redacts an error that echoes the connection string (Node URL errors keep it as `input`) and its cause', () => {
    const { lines, stream } = capture();
    const logger = createLogger({ level: 'info' }, stream);
    let urlError: unknown;
    try {
      new URL(`postgres://app:${SECRET}@db:99999/items`);
    } catch (err) {
      urlError = err;
    }
    expect(JSON.stringify(urlError, Object.getOwnPropertyNames(urlError))).toContain(SECRET); // the danger is real
    logger.warn({ err: new Error('store not reachable', { cause: urlError }) }, `could not connect to postgres://app:${SECRET}@db/items`);
    logger.error({ err: urlError }, 'failed');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).not.toContain(SECRET);
    expect(lines.join('')).toContain('postgres://app:***@db');
  });
});
