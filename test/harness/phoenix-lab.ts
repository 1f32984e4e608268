// A fresh lab for the Phoenix playbook tests: the repository's group_vars beside
// the lab's inventory, and phx-play run through its real CLI with --json.
import { after, before } from 'node:test';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startLab, type Lab } from '../../lab/index.js';
import { repoRoot, runCli } from '../helpers/cli.js';

export interface PhoenixRun {
  rc: number;
  stdout: string;
  stderr: string;
  events: Array<Record<string, unknown>>;
}

export interface PhoenixLab {
  readonly lab: Lab;
  readonly dir: string;
  /** phx-play -i <lab inventory> --json …args, from the repository root (a function: tests take it out of the object) */
  readonly phxPlay: (...args: string[]) => Promise<PhoenixRun>;
}

/** Starts a lab of `hosts` hosts (one PVE cluster with `cluster`) before the file's tests and stops it after. */
export function usePhoenixLab(prefix: string, hosts: number, options: { cluster?: boolean } = {}): PhoenixLab {
  let dir = '';
  let lab: Lab | undefined;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), prefix));
    lab = await startLab({ dir, hosts, ...(options.cluster ? { cluster: true } : {}) });
    // the repository's lab variables, beside the lab's inventory (group `lab`)
    cpSync(join(repoRoot, 'inventory/group_vars'), join(dirname(lab.inventoryFile), 'group_vars'), { recursive: true });
  });
  after(async () => {
    await lab?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    get lab() {
      return lab!;
    },
    get dir() {
      return dir;
    },
    async phxPlay(...args) {
      const r = await runCli(['-i', lab!.inventoryFile, '--json', ...args], { cwd: repoRoot });
      const events = r.stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      return { rc: r.code, stdout: r.stdout, stderr: r.stderr, events };
    },
  };
}
