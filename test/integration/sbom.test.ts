/**
 * `npm run sbom`: a CycloneDX SBOM of what the image ships, the runtime dependencies only. Runs
 * the same command (package.json's script) into a scratch file.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pkg from '../../package.json';

interface Bom {
  bomFormat: string;
  specVersion: string;
  metadata: { component: { name: string; version: string } };
  components: { group?: string; name: string; version: string; purl: string }[];
}

const ROOT = join(__dirname, '..', '..');

describe('npm run sbom', () => {
  let bom: Bom;
  const dir = mkdtempSync(join(tmpdir(), 'sbom-'));
  beforeAll(() => {
    const script = pkg.scripts.sbom.replace(/--output-file \S+/, `--output-file ${join(dir, 'bom.json')}`);
    expect(script).toContain('--omit dev');
    execFileSync('sh', ['-c', script], {
      cwd: ROOT,
      env: { ...process.env, PATH: `${join(ROOT, 'node_modules', '.bin')}:${process.env.PATH ?? ''}` },
      stdio: 'pipe',
    });
    bom = JSON.parse(readFileSync(join(dir, 'bom.json'), 'utf8')) as Bom;
  }, 180_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const names = () => new Set(bom.components.map((c) => (c.group === undefined ? c.name : `${c.group}/${c.name}`)));

  it('is CycloneDX 1.6 JSON describing this package', () => {
    expect(bom).toMatchObject({
      bomFormat: 'CycloneDX',
      specVersion: '1.6',
      metadata: { component: { name: pkg.name, version: pkg.version } },
    });
  });

  it('lists every runtime dependency at its pinned version', () => {
    const purls = bom.components.map((c) => c.purl);
    for (const [name, version] of Object.entries(pkg.dependencies))
      expect(purls).toContain(`pkg:npm/${name.replace('@', '%40')}@${version}`);
    expect([...names()]).toEqual(expect.arrayContaining(['express', 'prom-client', 'pg', 'pino']));
  });

  it('lists no development dependency', () => {
    const listed = names();
    expect(Object.keys(pkg.devDependencies).filter((name) => listed.has(name))).toEqual([]);
    expect(listed.has('jest')).toBe(false);
  });
});
