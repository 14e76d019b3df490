/**
 * A throwaway PostgreSQL server of our own, for scenarios that stop and restart the database
 * (the shared test server must not be stopped under other suites). Uses the installed server
 * binaries; as root, runs them as the `postgres` user, which PostgreSQL requires.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client } from 'pg';

/** The newest installed PostgreSQL server's bin directory, if any. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (process.env.PGBIN !== undefined) return process.env.PGBIN;
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb')));
  versions.sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

export class PgServer {
  private readonly dir = mkdtempSync(join(tmpdir(), 'pg-own-'));
  private readonly asRoot = userInfo().uid === 0;

  constructor(
    readonly port: number,
    private readonly bin: string = postgresBinDir() ?? '/usr/lib/postgresql/15/bin',
  ) {
    if (this.asRoot) {
      const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres']).toString().trim());
      chownSync(this.dir, id('-u'), id('-g'));
    }
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  private run(tool: string, args: string[]): void {
    const command = this.asRoot ? ['runuser', '-u', 'postgres', '--', join(this.bin, tool), ...args] : [join(this.bin, tool), ...args];
    execFileSync(command[0]!, command.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  }

  /** Creates the cluster (once) and starts the server, waiting until it accepts connections. */
  start(): void {
    const data = join(this.dir, 'data');
    if (!existsSync(data)) this.run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8']);
    this.run('pg_ctl', [
      '-D',
      data,
      '-l',
      join(this.dir, 'server.log'),
      '-w',
      '-o',
      `-p ${this.port} -c listen_addresses=127.0.0.1 -k ${this.dir} -c fsync=off`,
      'start',
    ]);
  }

  /** Stops the server at once (`-m fast`: open sessions are terminated). */
  stop(): void {
    this.run('pg_ctl', ['-D', join(this.dir, 'data'), '-m', 'fast', '-w', 'stop']);
  }

  /** Stops the server if it runs and deletes its files. */
  destroy(): void {
    try {
      this.stop();
    } catch {
      // not running
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A database of its own on the server at `adminUrl`, named `<prefix>_<random>`; `drop` removes it. */
export async function scratchDatabase(adminUrl: string, prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
