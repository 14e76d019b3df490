/**
 * `npm start`'s build step: compiles (`tsc -p tsconfig.build.json`, incremental) only when a
 * source or configuration file changed since the last successful build, so a second start
 * spends no time on the compiler (loading tsc and checking its build info alone takes seconds).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const STAMP = join(ROOT, 'build', '.build-stamp');
const INPUTS = ['src', 'k8s', 'tools', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json'];

/** The latest modification time under `path` (a file or a directory). */
function newest(path) {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (stat === undefined) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newest(join(path, name))));
}

const built = existsSync(join(ROOT, 'build', 'src', 'server.js')) ? (statSync(STAMP, { throwIfNoEntry: false })?.mtimeMs ?? 0) : 0;
if (Math.max(...INPUTS.map((p) => newest(join(ROOT, p)))) >= built) {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const run = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  if (run.status !== 0) process.exit(run.status ?? 1);
  writeFileSync(STAMP, `${new Date().toISOString()}\n`);
}
