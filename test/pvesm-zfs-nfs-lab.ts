// Shared by test/{pvesm,zfs,nfs}-lab.test.ts: a one-host lab reached over real
// SSH (openConnection), modules run the way the engine runs them
// (args parsed by the module's schema, createModuleContext + runModule), and
// snapshots of the host state that check mode must leave byte-identical.
import { before, after, beforeEach } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLab, type Lab } from '../lab/index.js';
import type { Connection } from '../src/connection/types.js';
import type { ModuleDefinition, ModuleResult } from '../src/module.js';
import { createModuleContext, runModule } from '../src/module-runner.js';
import { openLabConnection, type RunOptions } from './harness/lab-fixture.js';

export type { RunOptions };

export interface TestLab {
  lab: Lab;
  host: string;
  /** runs a module over the (reused) SSH connection */
  run(def: ModuleDefinition, rawArgs: unknown, o?: RunOptions): Promise<ModuleResult>;
  /** an sh command on the lab host; throws unless rc 0 */
  sh(command: string): Promise<string>;
  /** an sh command on the lab host, whatever its rc */
  exec(command: string): Promise<{ rc: number; stdout: string; stderr: string }>;
  /** storage.cfg, the zfs state and the exports, as bytes, for "check mode changed nothing" */
  snapshot(): Promise<string>;
  reset(): Promise<void>;
  stop(): Promise<void>;
  /** every command line the modules sent (for round-trip counts) */
  commands: string[];
}

export async function startTestLab(): Promise<TestLab> {
  const dir = mkdtempSync(join(tmpdir(), 'phx-storage-lab-'));
  let lab: Lab | undefined;
  let conn: Connection | undefined;
  // lab.reset() restarts the host's sshd, so the connection is reopened after it
  const connect = (l: Lab) => openLabConnection(l, dir);
  try {
    lab = await startLab({ dir, hosts: 1 });
    conn = await connect(lab);
  } catch (e) {
    await conn?.close().catch(() => {});
    await lab?.stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const theLab = lab;
  let theConn = conn;
  const host = theLab.hosts[0].name;
  const commands: string[] = [];
  // assertions go over the same reused SSH connection: a fresh `ssh` per check costs ~0.5 s
  const exec = async (command: string) => {
    const r = await theConn.exec(command);
    return { rc: r.rc, stdout: r.stdout, stderr: r.stderr };
  };
  const sh = async (command: string) => {
    const r = await exec(command);
    if (r.rc !== 0) throw new Error(`lab command failed (rc ${r.rc}): ${command}\n${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  return {
    lab: theLab,
    host,
    commands,
    exec,
    sh,
    async run(def, rawArgs, o = {}) {
      const args = def.args.parse(rawArgs);
      const ctx = createModuleContext({
        host,
        conn: theConn,
        check: o.check,
        diff: o.diff,
        predicted: o.predicted,
        onCommand: (c) => commands.push(c),
      });
      return runModule(def, args, ctx);
    },
    snapshot: () =>
      sh(
        'for f in /etc/pve/storage.cfg /var/lib/phx-lab/zfs.json /var/lib/phx-lab/nfs/etab.json; do echo "== $f"; cat "$f" 2>&1; done; ' +
          'echo "== zfs"; zfs list -H -p -o name,mountpoint -r tank; echo "== mnt"; ls -la /mnt/pve 2>&1; true',
      ),
    async reset() {
      await theConn.close().catch(() => {});
      await theLab.reset(host);
      theConn = await connect(theLab);
    },
    async stop() {
      await theConn.close().catch(() => {});
      await theLab.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Registers before/after hooks that start the lab for the test file, and a
 * beforeEach that resets the host (and, with clearFaults, its faults); the
 * returned TestLab forwards to it.
 */
export function useTestLab(o: { clearFaults?: boolean } = {}): TestLab {
  let t: TestLab | undefined;
  const started = (): TestLab => {
    if (!t) throw new Error('the lab is not started (use it inside tests)');
    return t;
  };
  before(async () => {
    t = await startTestLab();
  });
  after(async () => {
    await t?.stop();
  });
  beforeEach(async () => {
    await started().reset();
    if (o.clearFaults) await started().lab.setFaults(started().host, {});
  });
  return {
    get lab() {
      return started().lab;
    },
    get host() {
      return started().host;
    },
    get commands() {
      return started().commands;
    },
    run: (def, rawArgs, opts) => started().run(def, rawArgs, opts),
    sh: (command) => started().sh(command),
    exec: (command) => started().exec(command),
    snapshot: () => started().snapshot(),
    reset: () => started().reset(),
    stop: () => started().stop(),
  };
}

/** The fields a check run must predict exactly as the real run reports them. */
export function comparable(r: ModuleResult, drop: string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) if (!['diff', 'msg', ...drop].includes(k)) out[k] = v;
  return out;
}

/** Makes the host an NFS server exporting `path` (a zfs dataset) and starts nfs-server. */
export async function serveNfs(t: TestLab, path: string, opts: { start?: boolean } = {}): Promise<void> {
  const ds = path.replace(/^\//, '');
  await t.sh(
    `zfs create -p '${ds}' && mkdir -p /etc/exports.d && printf '%s *(rw,no_root_squash,no_subtree_check)\\n' '${path}' > /etc/exports.d/phx-test.exports && exportfs -ra`,
  );
  if (opts.start !== false) await t.sh('systemctl restart nfs-server');
}
