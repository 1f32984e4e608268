// Shared by the module lab tests: a one-host lab started for the test file,
// one reused SSH connection to it (openConnection, like the engine), modules
// run the way the engine runs them (args parsed by the module's schema,
// createModuleContext + runModule), and sh/exec for assertions on the host.
import { before, after } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLab, type Lab, type LabFaults } from '../../lab/index.js';
import { openConnection } from '../../src/connection/index.js';
import type { Connection } from '../../src/connection/types.js';
import type { ModuleDefinition, ModuleResult } from '../../src/module.js';
import { createModuleContext, runModule } from '../../src/module-runner.js';
import type { Predictions } from '../../src/predictions.js';

/** Opens (and connects) an SSH connection to the lab's first host, as root with the lab's key. */
export async function openLabConnection(lab: Lab, homeDir: string): Promise<Connection> {
  const h = lab.hosts[0];
  const conn = openConnection(
    h.name,
    {
      ansible_host: '127.0.0.1',
      ansible_port: h.port,
      ansible_user: 'root',
      ansible_ssh_private_key_file: lab.privateKeyFile,
      ansible_ssh_known_hosts_file: lab.knownHostsFile,
    },
    { homeDir, agentSocket: null, sshConfigFiles: [], globalKnownHostsFiles: [] },
  );
  await conn.connect();
  return conn;
}

export interface RunOptions {
  check?: boolean;
  diff?: boolean;
  /** check-mode memory shared between tasks of one run */
  predicted?: Predictions;
}

export interface LabHostFixture {
  readonly dir: string;
  readonly lab: Lab;
  readonly host: string;
  readonly conn: Connection;
  /** every command line the modules sent (for round-trip counts) */
  readonly commands: string[];
  // functions, not methods: they do not use `this`, so tests destructure them (`const { run, sh } = fx`)
  /** runs a module over the reused SSH connection */
  readonly run: (def: ModuleDefinition, raw: unknown, o?: RunOptions) => Promise<ModuleResult>;
  /** an sh command on the lab host (through lab.exec); throws unless rc 0 */
  readonly sh: (command: string) => Promise<string>;
  /** an sh command on the lab host (through lab.exec), whatever its rc */
  readonly exec: (command: string) => Promise<{ rc: number; stdout: string; stderr: string }>;
  readonly setFaults: (faults: LabFaults) => Promise<void>;
}

/**
 * Registers before/after hooks that start a one-host lab in a temp dir named
 * `${prefix}XXXXXX`, connect to it, then run `setup` (seeding the test file's
 * state); after: close, stop, remove. The fixture's members are usable in tests.
 */
/** `cluster`: the lab is a Proxmox VE cluster of `hosts` nodes (default 3) sharing /etc/pve; the fixture's
 *  host is the first node, the others are reached through `fx.lab.exec(name, …)`. */
export interface LabHostOptions {
  cluster?: boolean;
  hosts?: number;
}

export function useLabHost(
  prefix: string,
  setup?: (fx: LabHostFixture) => Promise<void>,
  options: LabHostOptions = {},
): LabHostFixture {
  let dir: string | undefined;
  let lab: Lab | undefined;
  let conn: Connection | undefined;
  const started = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('the lab is not started (use the fixture inside tests)');
    return v;
  };
  const commands: string[] = [];
  const fx: LabHostFixture = {
    get dir() {
      return started(dir);
    },
    get lab() {
      return started(lab);
    },
    get host() {
      return started(lab).hosts[0].name;
    },
    get conn() {
      return started(conn);
    },
    commands,
    run(def, raw, o = {}) {
      const ctx = createModuleContext({
        host: fx.host,
        conn: fx.conn,
        check: o.check,
        diff: o.diff,
        predicted: o.predicted,
        onCommand: (c) => commands.push(c),
      });
      return runModule(def, def.args.parse(raw), ctx);
    },
    exec: (command) => fx.lab.exec(fx.host, command),
    async sh(command) {
      const r = await fx.exec(command);
      if (r.rc !== 0) throw new Error(`lab command failed (rc ${r.rc}): ${command}\n${r.stderr}${r.stdout}`);
      return r.stdout;
    },
    setFaults: (faults) => fx.lab.setFaults(fx.host, faults),
  };
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), prefix));
    lab = await startLab({
      dir,
      hosts: options.hosts ?? (options.cluster ? 3 : 1),
      ...(options.cluster ? { cluster: true } : {}),
    });
    conn = await openLabConnection(lab, dir);
    await setup?.(fx);
  });
  after(async () => {
    await conn?.close().catch(() => {});
    await lab?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return fx;
}

/** A result without its diff: what a check run must predict exactly as the real run reports it. */
export const comparable = (r: ModuleResult) => Object.fromEntries(Object.entries(r).filter(([k]) => k !== 'diff'));
