// Ansible for the comparison: Debian's `ansible` package (installed when
// missing, and said so), and the two ansible.cfg files the bench measures.
// ANSIBLE_CONFIG always points at a generated file: ~/.ansible.cfg is never read
// or written.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type AnsibleSetup = 'fast' | 'defaults';

export const ANSIBLE_SETUPS: Record<AnsibleSetup, string> = {
  fast: 'pipelining, ControlMaster/ControlPersist 60s, forks = hosts, interpreter fixed, facts not gathered',
  defaults:
    'ansible.cfg defaults (no pipelining, forks 5, default ssh_args, interpreter discovery), facts not gathered (the playbook says gather_facts: false)',
};

export function ansibleVersion(): string | undefined {
  const r = spawnSync('ansible-playbook', ['--version'], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  return r.stdout.split('\n')[0]?.trim();
}

function apt(args: string[], log: (s: string) => void): boolean {
  log(`  $ apt-get ${args.join(' ')}`);
  const r = spawnSync('apt-get', args, {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return r.status === 0;
}

/** Installs Debian's ansible (and GNU time for memory figures) when missing; returns the version line. */
export function ensureAnsible(log: (s: string) => void): string {
  const missing: string[] = [];
  if (!ansibleVersion()) missing.push('ansible');
  if (!existsSync('/usr/bin/time')) missing.push('time');
  if (missing.length > 0) {
    log(`bench: installing Debian package(s) ${missing.join(', ')} (not found on this machine)`);
    if (!apt(['install', '-y', '--no-install-recommends', ...missing], log)) {
      apt(['update'], log);
      apt(['install', '-y', '--no-install-recommends', ...missing], log);
    }
  }
  const v = ansibleVersion();
  if (!v) throw new Error('ansible-playbook is not available and could not be installed (apt-get install -y ansible)');
  return v;
}

export interface AnsibleConfig {
  file: string;
  controlDir: string;
}

/**
 * Writes ansible.cfg for one setup. Every run gets a fresh control_path_dir, so
 * no ControlPersist master is left over from a previous run (phx-play also
 * opens its connections anew each run); closeControlMasters() ends them.
 */
export function writeAnsibleConfig(
  dir: string,
  setup: AnsibleSetup,
  o: { inventoryFile: string; knownHostsFile: string; forks: number },
): AnsibleConfig {
  mkdirSync(dir, { recursive: true });
  const controlDir = join(dir, `cp-${setup}`);
  const known = `-o UserKnownHostsFile=${o.knownHostsFile} -o StrictHostKeyChecking=yes`;
  const common = [
    '[defaults]',
    `inventory = ${o.inventoryFile}`,
    'host_key_checking = True',
    `local_tmp = ${join(dir, 'local-tmp')}`,
    `remote_tmp = ${join(dir, 'remote-tmp')}`,
    'retry_files_enabled = False',
    'nocolor = True',
  ];
  const lines =
    setup === 'fast'
      ? [
          ...common,
          `forks = ${o.forks}`,
          'gathering = explicit',
          'interpreter_python = /usr/bin/python3',
          '[ssh_connection]',
          'pipelining = True',
          'ssh_args = -o ControlMaster=auto -o ControlPersist=60s',
          `ssh_common_args = ${known}`,
          `control_path_dir = ${controlDir}`,
        ]
      : [...common, '[ssh_connection]', `ssh_common_args = ${known}`, `control_path_dir = ${controlDir}`];
  const file = join(dir, `ansible-${setup}.cfg`);
  writeFileSync(file, lines.join('\n') + '\n');
  return { file, controlDir };
}

/** Ends the ControlPersist masters of one run (`ssh -O exit`) and empties its control dir. */
export function closeControlMasters(controlDir: string): void {
  if (!existsSync(controlDir)) return;
  for (const name of readdirSync(controlDir)) {
    spawnSync('ssh', ['-o', `ControlPath=${join(controlDir, name)}`, '-O', 'exit', 'bench-control'], {
      stdio: 'ignore',
      timeout: 5000,
    });
  }
  rmSync(controlDir, { recursive: true, force: true });
}
