/**
 * A throwaway PostgreSQL server of our own, for scenarios that stop and restart the database
 * (the shared test server must not be stopped under other suites). Uses the installed server
 * binaries; as root, runs them as the `postgres` user, which PostgreSQL requires. The tools run
 * as child processes without blocking the event loop (a test's server child keeps being read).
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client } from 'pg';
import { runProcess } from './processes';

/** Bound on one tool run; pg_ctl -w itself gives up after 60 s. */
const TOOL_TIMEOUT_MS = 120_000;

/** The newest installed PostgreSQL server's bin directory, if any. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (process.env.PGBIN !== undefined) return process.env.PGBIN;
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb')));
  versions.sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

/** Whether process `pid` is a postgres server (a stale postmaster.pid may name a reused pid). */
function isPostgres(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]!.endsWith('postgres');
  } catch {
    return false;
  }
}

export interface PgServerOptions {
  /**
   * Serve TLS with this certificate and key (PEM) and refuse connections over TCP without it
   * (`hostssl` only in pg_hba.conf).
   */
  readonly tls?: { readonly cert: string; readonly key: string };
  /** The `postgres` user's password, required over TCP (scram-sha-256). @default none: trust */
  readonly password?: string;
}

export class PgServer {
  private readonly dir = mkdtempSync(join(tmpdir(), 'pg-own-'));
  private readonly asRoot = userInfo().uid === 0;
  private readonly owner: { uid: number; gid: number } | undefined;

  constructor(
    readonly port: number,
    private readonly bin: string = postgresBinDir() ?? '/usr/lib/postgresql/15/bin',
    private readonly options: PgServerOptions = {},
  ) {
    if (this.asRoot) {
      const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres']).toString().trim());
      this.owner = { uid: id('-u'), gid: id('-g') };
      chownSync(this.dir, this.owner.uid, this.owner.gid);
    }
  }

  get url(): string {
    const password = this.options.password === undefined ? '' : `:${encodeURIComponent(this.options.password)}`;
    return `postgres://postgres${password}@127.0.0.1:${this.port}/postgres`;
  }

  /** Writes a file of the server's own, readable by it alone (PostgreSQL refuses a key others can read). */
  private ownFile(name: string, content: string): string {
    const file = join(this.dir, name);
    writeFileSync(file, content, { mode: 0o600 });
    if (this.owner !== undefined) chownSync(file, this.owner.uid, this.owner.gid);
    return file;
  }

  /** initdb's authentication arguments: trust, or a password over TCP. */
  private authArgs(): string[] {
    if (this.options.password === undefined) return ['--auth=trust'];
    return ['--auth-local=trust', '--auth-host=scram-sha-256', `--pwfile=${this.ownFile('pwfile', `${this.options.password}\n`)}`];
  }

  /** Server options for TLS, with pg_hba.conf admitting TCP clients over TLS only. */
  private tlsArgs(): string {
    const tls = this.options.tls;
    if (tls === undefined) return '';
    const method = this.options.password === undefined ? 'trust' : 'scram-sha-256';
    const hba = this.ownFile('pg_hba.conf', `local all all trust\nhostssl all all 127.0.0.1/32 ${method}\nhost all all 0.0.0.0/0 reject\n`);
    const cert = this.ownFile('server.crt', tls.cert);
    const key = this.ownFile('server.key', tls.key);
    return ` -c ssl=on -c ssl_cert_file=${cert} -c ssl_key_file=${key} -c hba_file=${hba}`;
  }

  private get data(): string {
    return join(this.dir, 'data');
  }

  /** Runs a server tool to its end; rejects with its output when it fails. */
  private async run(tool: string, args: string[]): Promise<void> {
    const path = join(this.bin, tool);
    const [command, ...rest] = this.asRoot ? ['runuser', '-u', 'postgres', '--', path, ...args] : [path, ...args];
    const { code, output } = await runProcess(tool, command, rest, { timeoutMs: TOOL_TIMEOUT_MS });
    if (code !== 0) throw new Error(`${tool} ${args.join(' ')} exited with ${code}:\n${output.slice(-3000)}`);
  }

  /** Creates the cluster (once) and starts the server, waiting until it accepts connections. */
  async start(): Promise<void> {
    if (!existsSync(this.data))
      await this.run('initdb', ['-D', this.data, '-U', 'postgres', ...this.authArgs(), '-E', 'UTF8', '--locale=C.UTF-8']);
    const log = join(this.dir, 'server.log');
    try {
      await this.run('pg_ctl', [
        '-D',
        this.data,
        '-l',
        log,
        '-w',
        '-o',
        `-p ${this.port} -c listen_addresses=127.0.0.1 -k ${this.dir} -c fsync=off${this.tlsArgs()}`,
        'start',
      ]);
    } catch (err) {
      const tail = existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : '(no server log)';
      throw new Error(`${(err as Error).message}\nserver log:\n${tail}`, { cause: err });
    }
  }

  /** Stops the server at once (`-m fast`: open sessions are terminated). */
  async stop(): Promise<void> {
    await this.run('pg_ctl', ['-D', this.data, '-m', 'fast', '-w', 'stop']);
  }

  /** Stops the server if it runs (killing it when pg_ctl cannot) and deletes its files. */
  async destroy(): Promise<void> {
    try {
      await this.stop();
    } catch {
      // Not running, or pg_ctl failed: kill a postmaster that is still there.
      const pidFile = join(this.data, 'postmaster.pid');
      const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').split('\n')[0]) : NaN;
      if (Number.isInteger(pid) && pid > 0 && isPostgres(pid)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A database of its own on the server at `adminUrl`, named `<prefix>_<random>`; `drop` removes it. */
export async function scratchDatabase(adminUrl: string, prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
