// pyinfra 3.x for the comparison: found, never installed by the bench (the
// project vendors nothing; docs/BENCHMARKS.md says how to install it beside
// the project). PYINFRA=/path/to/bin/pyinfra wins over PATH. It runs
// bench/workload/deploy.py (the 20 tasks of workload.yml) on the same sshd
// hosts, key and known_hosts file as phx-play and Ansible.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { BenchHosts } from './hosts.js';

export interface Pyinfra {
  bin: string;
  /** e.g. "pyinfra: v3.0b0" */
  version: string;
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The pyinfra to measure, or why there is none (a note for the report). */
export function findPyinfra(env: NodeJS.ProcessEnv = process.env): Pyinfra | string {
  const named = env.PYINFRA;
  const bin = named
    ? named
    : (env.PATH ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((d) => join(d, 'pyinfra'))
        .find(executable);
  if (!bin)
    return 'pyinfra not measured: no pyinfra on PATH and PYINFRA is not set (docs/BENCHMARKS.md, "## pyinfra", says how to install it)';
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 60_000 });
  const version = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0] ?? '';
  if (r.status !== 0) return `pyinfra not measured: '${bin} --version' failed (rc ${r.status}): ${version}`;
  const major = /v?(\d+)\./.exec(version)?.[1];
  if (major !== '3') return `pyinfra not measured: ${bin} is '${version}', the bench's deploy is for pyinfra 3.x`;
  return { bin, version };
}

/** A Python string literal: JSON's string syntax is a subset of Python's. */
const py = (s: string) => JSON.stringify(s);

/**
 * pyinfra's inventory (a Python file) for the bench hosts: group `bench`,
 * paramiko with the bench key, and the bench's known_hosts with strict checking.
 */
export function writePyinfraInventory(hosts: BenchHosts, file: string): void {
  const rows = hosts.names.map((name, i) => {
    const data = [
      `"ssh_hostname": "127.0.0.1"`,
      `"ssh_port": ${hosts.handles[i].port}`,
      `"ssh_user": "root"`,
      `"ssh_key": ${py(hosts.privateKeyFile)}`,
      `"ssh_known_hosts_file": ${py(hosts.knownHostsFile)}`,
      `"ssh_strict_host_key_checking": "yes"`,
      `"ssh_allow_agent": False`,
      `"ssh_look_for_keys": False`,
    ];
    return `    (${py(name)}, {${data.join(', ')}}),`;
  });
  writeFileSync(file, ['bench = [', ...rows, ']', ''].join('\n'));
}

/**
 * The argv of one run. First and second runs use `-y` (pyinfra's unattended
 * mode: no change-proposal pass before executing); the check run is `--dry`
 * (the proposal only, like ansible-playbook --check).
 */
export function pyinfraArgv(
  p: Pyinfra,
  o: { inventory: string; deploy: string; base: string; hosts: number; check: boolean },
): string[] {
  return [
    p.bin,
    ...(o.check ? ['--dry'] : ['-y']),
    '--parallel',
    String(o.hosts),
    '--data',
    `bench_base=${o.base}`,
    o.inventory,
    o.deploy,
  ];
}

export interface PyinfraRecap {
  /** per host: operations that ran commands (an executed run); every host that ran an operation is there */
  changed: Map<string, number>;
  /** a --dry run: operations × hosts pyinfra proposes to change (its Change and Conditional Change columns) */
  proposed: number;
}

// eslint-disable-next-line no-control-regex -- ESC is what this pattern looks for
const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');

/**
 * Changes from pyinfra's output. An executed run logs, per operation and host,
 * "[host] Success" when the operation ran commands, "[host] No changes" or
 * "[host] Skipped" otherwise (pyinfra 3.0's own change count is the proposal,
 * which -y skips, so these lines are counted). A --dry run prints the proposal
 * as a table under "--> Detected changes:", one row per operation with its
 * Change and Conditional Change cells ("-", or "N (the hosts)").
 */
export function parsePyinfraOutput(output: string): PyinfraRecap {
  const text = plain(output);
  const changed = new Map<string, number>();
  for (const m of text.matchAll(/^\s*\[([^\]]+)\]\s+(Success|No changes|Skipped)\s*$/gm))
    changed.set(m[1], (changed.get(m[1]) ?? 0) + (m[2] === 'Success' ? 1 : 0));
  let proposed = 0;
  const detected = text.indexOf('--> Detected changes:');
  if (detected >= 0) {
    const rows = text.slice(detected).split('\n').slice(2);
    for (const row of rows) {
      if (row.startsWith('-->') || row.trim() === '') break;
      // a cell is "-" or "N (host, host…)"; operation names in deploy.py hold no "N ("
      for (const m of row.matchAll(/\s(\d+) \(/g)) proposed += Number(m[1]);
    }
  }
  return { changed, proposed };
}

/** The run's totals in the shape the bench checks for every tool. */
export function pyinfraTotals(
  output: string,
  check: boolean,
  hostNames: readonly string[],
): { changed: number; failed: number; unreachable: number; complete: boolean } {
  const r = parsePyinfraOutput(output);
  if (check)
    return {
      changed: r.proposed,
      failed: 0,
      unreachable: 0,
      complete: plain(output).includes('--> Detected changes:'),
    };
  return {
    changed: [...r.changed.values()].reduce((a, b) => a + b, 0),
    failed: 0,
    unreachable: 0,
    complete: hostNames.every((h) => r.changed.has(h)),
  };
}
