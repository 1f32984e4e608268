// Test kit for the simulator (for lab and module tests): a seeded temp root per test file, and a way
// to run one simulated tool against it (PHX_LAB_ROOT), the way the lab's shims do.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { seedHost } from './sim/seed.js';
import { writeShims } from './hostfs.js';

const SIM_MAIN = resolve(dirname(fileURLToPath(import.meta.url)), './sim/main.js');

export interface Ran {
  rc: number;
  stdout: string;
  stderr: string;
}

export class SimRoot {
  readonly dir: string;
  readonly root: string;
  readonly lab: string;
  constructor(readonly node = 'pve1') {
    this.dir = mkdtempSync(join(tmpdir(), 'phx-sim-'));
    this.root = join(this.dir, 'root');
    this.lab = join(this.dir, 'lab');
    seedHost(this.root, node);
    writeShims(this.lab);
  }
  run(tool: string, ...args: string[]): Ran {
    return this.runWith({}, tool, ...args);
  }
  runWith(opts: { input?: string; env?: Record<string, string> }, tool: string, ...args: string[]): Ran {
    const r = spawnSync(process.execPath, [SIM_MAIN, tool, ...args], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        PHX_LAB_ROOT: this.root,
        PHX_LAB_VM_BIN: join(this.lab, 'bin-vm'),
        PHX_LAB_CT_BIN: join(this.lab, 'bin-ct'),
        ...opts.env,
      },
      input: opts.input ?? '',
      encoding: 'utf8',
    });
    return { rc: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  }
  path(p: string): string {
    return join(this.root, p);
  }
  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export const TEMPLATE_VOL = 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst';
