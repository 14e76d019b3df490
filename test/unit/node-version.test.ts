/**
 * One Node.js story: the image runs the version `.nvmrc` names, `engines` admits it, and the
 * Node types are those of the oldest supported major, so the code uses no API it lacks.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

interface PackageJson {
  engines: { node: string };
  devDependencies: Record<string, string>;
}

const pkg = JSON.parse(read('package.json')) as PackageJson;
const nvmrc = read('.nvmrc').trim();
const ranges = pkg.engines.node.split('||').map((r) => r.trim());
const major = (version: string) => Number(/(\d+)/.exec(version)?.[1]);

describe('the Node.js version', () => {
  it('is the same in .nvmrc and the image', () => {
    expect(nvmrc).toMatch(/^\d+\.\d+\.\d+$/);
    expect(/^ARG NODE_IMAGE=node:(\S+?)-/m.exec(read('Dockerfile'))?.[1]).toBe(nvmrc);
  });

  it('of .nvmrc is admitted by engines', () => {
    expect(ranges.some((r) => (r.startsWith('>=') ? major(nvmrc) >= major(r) : major(r) === major(nvmrc)))).toBe(true);
  });

  it('types are those of the oldest major engines admits', () => {
    expect(major(pkg.devDependencies['@types/node']!)).toBe(Math.min(...ranges.map(major)));
  });
});
