import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const SERVICE_RUNTIME = ['express', 'prom-client', '@electric-sql/pglite', 'pg', 'pino', 'path-to-regexp'];

/** The packages and project files a real `npm run synth` (the built k8s/main.js) loads. */
function synthLoads(): { packages: Set<string>; projectFiles: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'synth-loads-'));
  try {
    const record = join(dir, 'loaded.txt');
    const run = spawnSync(
      process.execPath,
      ['-r', join(__dirname, '..', 'helpers', 'record-loaded-modules.cjs'), join(ROOT, 'build', 'k8s', 'main.js')],
      {
        cwd: ROOT,
        env: { ...process.env, NODE_OPTIONS: '', SYNTH_OUTDIR: join(dir, 'out'), RECORD_LOADED_MODULES: record },
        encoding: 'utf8',
      },
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const files = readFileSync(record, 'utf8').split('\n');
    const packages = new Set(
      files.map((f) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(f)?.[1]).filter((p): p is string => p !== undefined),
    );
    const projectFiles = files.filter((f) => f.startsWith(join(ROOT, 'build'))).map((f) => relative(join(ROOT, 'build'), f));
    return { packages, projectFiles };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the synth', () => {
  it("loads none of the service's runtime: of src/ only the dependency-free contract", () => {
    const { packages, projectFiles } = synthLoads();
    // The recording sees what the synth really loads.
    expect(packages).toContain('cdk8s');
    expect(projectFiles).toContain(join('k8s', 'main.js'));
    for (const pkg of SERVICE_RUNTIME) expect([...packages]).not.toContain(pkg);
    expect(projectFiles.filter((f) => f.startsWith(`src${'/'}`))).toEqual([join('src', 'contract.js')]);
  });
});
