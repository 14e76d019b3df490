import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_METRICS_PORT, DEFAULT_PORT } from '../../src/contract';
import { SERVER_NODE_FLAGS } from '../../tools/lib/processes';

const dockerfile = readFileSync(join(__dirname, '..', '..', 'Dockerfile'), 'utf8');
/** The runtime stage's `ENV` settings (the last ENV instruction, with its continuation lines). */
const runtimeStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
const envInstruction = /^ENV ((?:.*\\\n)*.*)$/m.exec(runtimeStage)?.[1] ?? '';
const env = new Map([...envInstruction.matchAll(/(\w+)=(\S+)/g)].map((m): [string, string] => [m[1]!, m[2]!]));

describe('the image settings (Dockerfile)', () => {
  it('serve /metrics on their own port, the one the manifests scrape, not on the public port', () => {
    expect(env.get('PORT')).toBe(String(DEFAULT_PORT));
    expect(env.get('METRICS_PORT')).toBe(String(DEFAULT_METRICS_PORT));
    expect(dockerfile).toMatch(new RegExp(`^EXPOSE ${DEFAULT_PORT} ${DEFAULT_METRICS_PORT}$`, 'm'));
  });

  it('run the server with the same Node flags as `npm start` and the tools that start it', () => {
    const command = ['node', ...SERVER_NODE_FLAGS, 'build/src/server.js'];
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(runtimeStage)?.[1] ?? '[]') as string[];
    expect(cmd).toEqual(command);
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toBe(command.join(' '));
  });
});
