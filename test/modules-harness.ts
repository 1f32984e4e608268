// Shared by test/modules-*.test.ts: runs a module the way the engine does on
// a local connection, counts round trips, snapshots directory trees, and makes
// a throwaway second user for owner/group tests.
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalConnection } from '../src/connection/local.js';
import type { Connection, ExecOptions, ExecResult } from '../src/connection/types.js';
import type { ModuleDefinition, ModuleResult } from '../src/module.js';
import { createModuleContext, runModule } from '../src/module-runner.js';
import type { Predictions } from '../src/predictions.js';
import { before, after } from 'node:test';

/** A local connection that counts exec calls (network round trips over SSH). */
export class CountingConnection implements Connection {
  commands: string[] = [];
  constructor(private readonly inner: Connection = new LocalConnection()) {}
  get kind() {
    return this.inner.kind;
  }
  connect(): Promise<void> {
    return this.inner.connect();
  }
  exec(command: string, opts?: ExecOptions): Promise<ExecResult> {
    this.commands.push(command);
    return this.inner.exec(command, opts);
  }
  putFile(path: string, data: Buffer, opts?: { mode?: number }): Promise<void> {
    this.commands.push(`putFile ${path}`);
    return this.inner.putFile(path, data, opts);
  }
  getFile(path: string): Promise<Buffer | null> {
    this.commands.push(`getFile ${path}`);
    return this.inner.getFile(path);
  }
  async close(): Promise<void> {
    // the inner connection belongs to the caller
  }
}

export interface RunOpts {
  check?: boolean;
  diff?: boolean;
  vars?: Record<string, unknown>;
  baseDir?: string;
  predicted?: Predictions;
  become?: { user: string };
  /** default: a fresh local connection */
  conn?: Connection;
}

export interface Run {
  result: ModuleResult;
  roundTrips: number;
  commands: string[];
}

/** Parses args with the module's schema (a bare string goes to its free-form arg) and runs it. */
export async function run(def: ModuleDefinition, rawArgs: unknown, o: RunOpts = {}): Promise<Run> {
  const input = typeof rawArgs === 'string' && def.freeForm ? { [def.freeForm]: rawArgs } : rawArgs;
  const args = def.args.parse(input);
  const conn = new CountingConnection(o.conn);
  await conn.connect();
  const ctx = createModuleContext({
    host: 'localhost',
    conn,
    check: o.check,
    diff: o.diff,
    vars: o.vars,
    baseDir: o.baseDir,
    predicted: o.predicted,
    become: o.become,
  });
  const result = await runModule(def, args, ctx);
  return { result, roundTrips: conn.commands.length, commands: conn.commands };
}

/** The schema's error messages for bad args (empty when they parse). */
export function argErrors(def: ModuleDefinition, rawArgs: unknown): string[] {
  const r = def.args.safeParse(rawArgs);
  if (r.success) return [];
  return r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

export function tempDir(prefix = 'phx-mod-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Everything observable about a tree except access times: type, mode, owner, content, link target. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (p: string, rel: string) => {
    const st = lstatSync(p);
    const head = `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
    if (st.isSymbolicLink()) out[rel] = `link ${head} -> ${readlinkSync(p)}`;
    else if (st.isDirectory()) {
      out[rel] = `dir ${head} mtime=${st.mtimeMs}`;
      for (const name of readdirSync(p).sort()) walk(join(p, name), rel ? `${rel}/${name}` : name);
    } else out[rel] = `file ${head} mtime=${st.mtimeMs} ${readFileSync(p).toString('base64')}`;
  };
  walk(dir, '');
  return out;
}

/** A real second user and group on this machine for owner/group tests. */
export function createUser(name: string): { uid: number; gid: number; remove: () => void } {
  try {
    execFileSync('userdel', [name], { stdio: 'ignore' });
  } catch {
    /* not there: fine */
  }
  execFileSync('useradd', ['--no-create-home', '--user-group', '--shell', '/usr/sbin/nologin', name]);
  const uid = Number(execFileSync('id', ['-u', name]).toString().trim());
  const gid = Number(execFileSync('id', ['-g', name]).toString().trim());
  return {
    uid,
    gid,
    remove: () => {
      try {
        execFileSync('userdel', [name], { stdio: 'ignore' });
      } catch {
        /* already gone */
      }
      try {
        execFileSync('groupdel', [name], { stdio: 'ignore' });
      } catch {
        /* removed with the user */
      }
    },
  };
}

/** The fields a check run and a real run must agree on (timing and output differ by nature). */
export function comparable(r: ModuleResult, drop: string[] = []): Record<string, unknown> {
  const { diff: _d, ...rest } = r;
  for (const k of ['start', 'end', 'delta', 'backup_file', ...drop]) delete rest[k];
  return rest;
}

export type TestUser = ReturnType<typeof createUser>;

/** Registers before/after hooks: a temp dir and a throwaway user `name` for the test file, both removed after. */
export function useTempDirAndUser(name: string): { readonly dir: string; readonly user: TestUser } {
  let dir: string | undefined;
  let user: TestUser | undefined;
  before(() => {
    dir = tempDir();
    user = createUser(name);
  });
  after(() => {
    if (dir) removeDir(dir);
    user?.remove();
  });
  const started = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('use the temp dir and user inside tests');
    return v;
  };
  return {
    get dir() {
      return started(dir);
    },
    get user() {
      return started(user);
    },
  };
}
