// The executor's side of ansible_connection: pct, with a stand-in `lxc-attach` on a local
// hypervisor: two CTs of one hypervisor share its one connection, opened once even
// though the hypervisor is not in the play, closed once at the end; the commands
// all go through `lxc-attach -n <vmid> --` (what `pct exec` execs), `pct` never runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openConnection } from '../src/connection/index.js';
import type { Connection } from '../src/connection/types.js';
import type { RunEvent } from '../src/events.js';
import { runPlaybooks } from '../src/executor/run.js';
import { loadInventory } from '../src/inventory/index.js';
import { loadPlaybook } from '../src/playbook/load.js';
import { loadRegistry } from '../src/registry.js';
import { plainExecutorOptions } from './helpers/executor-options.js';

// `lxc-attach -n <vmid> -- <command> [args]`: what proxmox/pve-container src/PVE/CLI/pct.pm's exec
// execs (the command's exit status and streams). `pct` is there only to show that it never runs.
const FAKE_LXC_ATTACH = `#!/bin/sh
printf 'lxc-attach %.40s\n' "$*" >> "$PCT_LOG"
[ "$1" = -n ] && [ "$3" = -- ] || exit 2
shift 3; exec "$@"
`;
const FAKE_PCT = `#!/bin/sh
printf 'pct %.40s\n' "$*" >> "$PCT_LOG"
exit 2
`;

/**
 * This machine as the hypervisor, its /etc/pve/lxc and /proc/1/net/unix being the test's `dir`/lxc and
 * `dir`/unix (CT 101 and 102 configured, both running: their monitor sockets as in pve-container's
 * PVE::LXC::list_active_containers).
 */
function localHypervisor(conn: Connection, dir: string): Connection {
  mkdirSync(join(dir, 'lxc'), { recursive: true });
  for (const id of [101, 102]) writeFileSync(join(dir, 'lxc', `${id}.conf`), 'hostname: ct\n');
  writeFileSync(
    join(dir, 'unix'),
    'Num       RefCount Protocol Flags    Type St Inode Path\n' +
      [101, 102]
        .map((id) => `0000000000000000: 00000002 00000000 00010000 0001 01 ${40000 + id} @/var/lib/lxc/${id}/command\n`)
        .join(''),
  );
  const exec = conn.exec.bind(conn);
  return Object.assign(conn, {
    exec: (command: string, opts?: Parameters<Connection['exec']>[1]) =>
      exec(command.replaceAll('/etc/pve/lxc/', `${dir}/lxc/`).replaceAll('/proc/1/net/unix', `${dir}/unix`), opts),
  });
}

function fakeTools(dir: string): void {
  for (const [name, text] of [
    ['lxc-attach', FAKE_LXC_ATTACH],
    ['pct', FAKE_PCT],
  ]) {
    writeFileSync(join(dir, name), text);
    chmodSync(join(dir, name), 0o755);
  }
}

test('CTs on one hypervisor share its one connection (not in the play, opened once, closed once); commands go through lxc-attach, no pct', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'phx-pct-run-'));
  const path = process.env.PATH;
  try {
    fakeTools(dir);
    process.env.PATH = `${dir}:${path}`;
    process.env.PCT_LOG = join(dir, 'pct.log');
    writeFileSync(
      join(dir, 'hosts.yml'),
      'all:\n  hosts:\n    hv: { ansible_connection: local }\n  children:\n    cts:\n      vars: { ansible_connection: pct, ansible_host: hv }\n      hosts:\n        ct1: { pct_vmid: 101 }\n        ct2: { pct_vmid: 102 }\n',
    );
    // `connection: ssh` for the play's hosts: below the CTs' inventory value, as in Ansible
    writeFileSync(
      join(dir, 'play.yml'),
      `- hosts: cts\n  gather_facts: false\n  connection: ssh\n  tasks:\n    - command: echo hi from {{ inventory_hostname }}\n      register: r\n    - copy: { dest: "${dir}/out-{{ inventory_hostname }}", content: "x" }\n`,
    );
    const registry = await loadRegistry();
    const events: RunEvent[] = [];
    const made: string[] = [];
    const closed: string[] = [];
    const outcome = await runPlaybooks([loadPlaybook(join(dir, 'play.yml'), { registry })], plainExecutorOptions(), {
      inventory: loadInventory([join(dir, 'hosts.yml')]),
      registry,
      reporter: { emit: (e) => void events.push(e), close: async () => {} },
      makeConnection: (host, vars, via) => {
        made.push(`${host}:${String(vars.ansible_connection)}`);
        const opened = openConnection(host, vars, { hostConnection: via });
        const conn = host === 'hv' ? localHypervisor(opened, dir) : opened;
        const close = conn.close.bind(conn);
        const counted: Connection = Object.assign(conn, {
          close: async () => {
            closed.push(host);
            await close();
          },
        });
        return counted;
      },
    });
    assert.equal(outcome.exitCode, 0, JSON.stringify(events.filter((e) => e.type === 'host_result')));
    assert.deepEqual(
      made.sort(),
      ['ct1:pct', 'ct2:pct', 'hv:local'],
      'the hypervisor once, with its own connection kind',
    );
    assert.deepEqual(closed.sort(), ['ct1', 'ct2', 'hv'], 'each closed once');
    const stdout = events.flatMap((e) =>
      e.type === 'host_result' && e.task.startsWith('command') ? [`${e.host}: ${String(e.result.stdout)}`] : [],
    );
    assert.deepEqual(stdout.sort(), ['ct1: hi from ct1', 'ct2: hi from ct2']);
    const log = readFileSync(join(dir, 'pct.log'), 'utf8').trim().split('\n');
    assert.ok(log.filter((l) => l.startsWith('lxc-attach -n 101 -- sh -c')).length >= 2, log.join('\n'));
    assert.ok(log.filter((l) => l.startsWith('lxc-attach -n 102 -- sh -c')).length >= 2, log.join('\n'));
    assert.ok(
      log.every((l) => /^lxc-attach -n 10[12] -- sh -c /.test(l)),
      `only lxc-attach, never pct:\n${log.join('\n')}`,
    );
    assert.equal(readFileSync(join(dir, 'out-ct2'), 'utf8'), 'x');
  } finally {
    process.env.PATH = path;
    delete process.env.PCT_LOG;
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an unreachable hypervisor makes its CT unreachable, saying which hypervisor', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'phx-pct-run-'));
  try {
    writeFileSync(
      join(dir, 'hosts.yml'),
      'all:\n  hosts:\n    hvdown: { ansible_host: 127.0.0.1, ansible_port: 1, ansible_user: root }\n    ct9: { ansible_connection: pct, ansible_host: hvdown, pct_vmid: 109 }\n',
    );
    writeFileSync(join(dir, 'play.yml'), '- hosts: ct9\n  gather_facts: false\n  tasks:\n    - command: "true"\n');
    const registry = await loadRegistry();
    const events: RunEvent[] = [];
    const outcome = await runPlaybooks(
      [loadPlaybook(join(dir, 'play.yml'), { registry })],
      plainExecutorOptions({ forks: 1 }),
      {
        inventory: loadInventory([join(dir, 'hosts.yml')]),
        registry,
        reporter: { emit: (e) => void events.push(e), close: async () => {} },
        makeConnection: (host, vars, via) =>
          openConnection(host, vars, {
            hostConnection: via,
            homeDir: dir,
            agentSocket: null,
            sshConfigFiles: [],
            globalKnownHostsFiles: [],
            connectTimeoutMs: 5000,
          }),
      },
    );
    assert.equal(outcome.exitCode, 4);
    const r = events.find((e) => e.type === 'host_result');
    assert.ok(r?.type === 'host_result');
    assert.equal(r.host, 'ct9');
    assert.equal(r.status, 'unreachable');
    assert.match(String(r.result.msg), /^ct9 \(CT 109 on hvdown\): \S/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a hypervisor login that is not root: the CT is unreachable, saying lxc-attach needs root; nothing is run', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'phx-pct-run-'));
  const path = process.env.PATH;
  try {
    fakeTools(dir);
    writeFileSync(join(dir, 'id'), '#!/bin/sh\ncase "$1" in -u) echo 1000 ;; -un) echo alice ;; esac\n');
    chmodSync(join(dir, 'id'), 0o755);
    process.env.PATH = `${dir}:${path}`;
    process.env.PCT_LOG = join(dir, 'pct.log');
    const conn = openConnection(
      'ct1',
      { ansible_connection: 'pct', ansible_host: 'hv', pct_vmid: '101' },
      {
        hostConnection: () =>
          Promise.resolve(localHypervisor(openConnection('hv', { ansible_connection: 'local' }), dir)),
      },
    );
    await assert.rejects(
      conn.connect(),
      /^UnreachableError: ct1: cannot use CT 101 on hv: logged in as alice, not root: lxc-attach needs root$/,
    );
    assert.equal(existsSync(join(dir, 'pct.log')), false, 'neither pct nor lxc-attach ran');
  } finally {
    process.env.PATH = path;
    delete process.env.PCT_LOG;
    rmSync(dir, { recursive: true, force: true });
  }
});
