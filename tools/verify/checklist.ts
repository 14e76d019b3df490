/**
 * The checklist `verify` prints: each item passed, failed, (for information) warned, or could
 * not run (with the reason: a permission the user lacks, an object not in view).
 */

export type Status = 'pass' | 'fail' | 'warn' | 'skip';

export interface Item {
  readonly id: string;
  readonly title: string;
  readonly status: Status;
  /** What was found: the mismatch, the objects, the numbers. */
  readonly details: readonly string[];
  readonly fix?: string;
}

const MARK: Record<Status, string> = { pass: '✓', fail: '✗', warn: '!', skip: '?' };

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

  /** An item that could not be checked, and why. */
  skip(id: string, title: string, why: string): void {
    this.add({ id, title, status: 'skip', details: [`could not run: ${why}`] });
  }

  get ok(): boolean {
    return this.items.every((i) => i.status !== 'fail');
  }

  /** Ids of the items that could not run. */
  get skipped(): string[] {
    return this.items.filter((i) => i.status === 'skip').map((i) => i.id);
  }

  toJson(): { ok: boolean; complete: boolean; items: Item[] } {
    return { ok: this.ok, complete: this.skipped.length === 0, items: this.items };
  }
}
