/** The checklist `verify` prints: each item passed, failed or (for information) warned. */

export type Status = 'pass' | 'fail' | 'warn';

export interface Item {
  readonly id: string;
  readonly title: string;
  readonly status: Status;
  /** What was found: the mismatch, the objects, the numbers. */
  readonly details: readonly string[];
  readonly fix?: string;
}

const MARK: Record<Status, string> = { pass: '✓', fail: '✗', warn: '!' };

export class Checklist {
  readonly items: Item[] = [];

  constructor(private readonly out?: NodeJS.WritableStream) {}

  add(item: Item): void {
    this.items.push(item);
    if (this.out === undefined) return;
    const lines = [`  ${MARK[item.status]} ${item.title}`, ...item.details.map((d) => `      ${d}`)];
    if (item.fix !== undefined && item.status === 'fail') lines.push(`      fix: ${item.fix}`);
    this.out.write(`${lines.join('\n')}\n`);
  }

  pass(id: string, title: string, ...details: string[]): void {
    this.add({ id, title, status: 'pass', details });
  }

  fail(id: string, title: string, fix: string, ...details: string[]): void {
    this.add({ id, title, status: 'fail', details, fix });
  }

  get ok(): boolean {
    return this.items.every((i) => i.status !== 'fail');
  }

  toJson(): { ok: boolean; items: Item[] } {
    return { ok: this.ok, items: this.items };
  }
}
