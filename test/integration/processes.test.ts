/** tools/lib/processes.ts with real child processes: start failures, waits, stop's escalation and signals. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT, spawnProcess, waitFor } from '../../tools/lib/processes';

const node = process.execPath;

/** Whether `pid` runs (a zombie, killed and not yet reaped, does not). */
function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

describe('child processes', () => {
  it('rejects with the command named when it cannot be spawned', async () => {
    const p = spawnProcess('ghost', '/nonexistent/ghost-binary', []);
    await expect(p.exited).rejects.toThrow(/ghost: could not start \/nonexistent\/ghost-binary: .*ENOENT/);
  });

  it('ends a wait on output as soon as the process exits, with its output', async () => {
    const p = spawnProcess('short', node, ['-e', 'console.log("bye"); process.exit(3)']);
    await expect(p.waitForOutput(/never printed/, 60_000)).rejects.toThrow(/short exited with 3:\nbye/);
  });

  it('escalates to SIGKILL when the process ignores SIGTERM', async () => {
    const p = spawnProcess('stubborn', node, [
      '-e',
      'process.on("SIGTERM", () => console.log("ignored")); console.log("up"); setInterval(() => {}, 1000)',
    ]);
    await p.waitForOutput(/up/);
    const t0 = Date.now();
    expect(await p.stop('SIGTERM', 300)).toBeNull();
    expect(p.child.signalCode).toBe('SIGKILL');
    expect(p.output()).toContain('ignored');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
  });

  it('gives up on a probe that never settles at the deadline', async () => {
    await expect(waitFor('a stuck probe', () => new Promise<undefined>(() => undefined), 300)).rejects.toThrow(
      /timed out after 300 ms waiting for a stuck probe/,
    );
  });

  it("kills a tool's children when the tool gets SIGTERM (killChildrenOnSignal)", async () => {
    // A tool that starts a long-running child with the module, then waits to be stopped.
    const script = [
      `const { killChildrenOnSignal, spawnProcess } = require(${JSON.stringify(join(PROJECT_ROOT, 'build', 'tools', 'lib', 'processes.js'))});`,
      'killChildrenOnSignal();',
      `const child = spawnProcess('sleeper', ${JSON.stringify(node)}, ['-e', 'setInterval(() => {}, 1000)']);`,
      'console.log(`child ${child.child.pid}`);',
      'setInterval(() => {}, 1000);',
    ].join('\n');
    const tool = spawnProcess('tool', node, ['-e', script]);
    const pid = Number((await tool.waitForOutput(/child (\d+)/))[1]);
    expect(alive(pid)).toBe(true);
    expect(await tool.stop('SIGTERM')).toBe(143);
    await waitFor('the child to be gone', () => (alive(pid) ? undefined : true), 10_000, 50);
  });
});
