// The executor's side of ansible_connection: pct, with a stand-in `pct` on a local
// hypervisor: two CTs of one hypervisor share its one connection, opened once even
// though the hypervisor is not in the play, closed once at the end; the commands
// all go through `pct exec <vmid> --`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openConnection } from '../src/connection/index.js';
import type { Connection } from '../src/connection/types.js';
import type { RunEvent } from '../src/events.js';
import { runPlaybooks } from '../src/executor/run.js';
import { loadInventory } from '../src/inventory/index.js';
import { loadPlaybook } from '../src/playbook/load.js';
import { loadRegistry } from '../src/registry.js';

// `pct exec <vmid> -- <command> [args]` as proxmox/pve-container src/PVE/CLI/pct.pm's exec has it
// (the command's exit status and streams); `pct status <vmid>` prints "status: running".
const FAKE_PCT = `#!/bin/sh
printf '%.40s\n' "$*" >> "$PCT_LOG"
case "$1" in
  status) echo "status: running" ;;
  exec) shift 2; [ "$1" = -- ] || exit 2; shift; exec "$@" ;;
  *) exit 2 ;;
esac
`;

test('CTs on one hypervisor share its one connection (not in the play, opened once, closed once); commands go through pct exec', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'phx-pct-run-'));
  const path = process.env.PATH;
  try {
    writeFileSync(join(dir, 'pct'), FAKE_PCT);
    chmodSync(join(dir, 'pct'), 0o755);
    process.env.PATH = `${dir}:${path}`;
    process.env.PCT_LOG = join(dir, 'pct.log');
    writeFileSync(
      join(dir, 'hosts.yml'),
      'all:\n  hosts:\n    hv: { ansible_connection: local }\n  children:\n    cts:\n      vars: { ansible_connection: pct, ansible_host: hv }\n      hosts:\n        ct1: { pct_vmid: 101 }\n        ct2: { pct_vmid: 102 }\n',
    );
    // `connection: ssh` for the play's hosts: below the CTs' inventory value, as in Ansible
    writeFileSync(
      join(dir, 'play.yml'),
      `- hosts: cts\n  connection: ssh\n  tasks:\n    - command: echo hi from {{ inventory_hostname }}\n      register: r\n    - copy: { dest: "${dir}/out-{{ inventory_hostname }}", content: "x" }\n`,
    );
    const registry = await loadRegistry();
    const events: RunEvent[] = [];
    const made: string[] = [];
    const closed: string[] = [];
    const outcome = await runPlaybooks(
      [loadPlaybook(join(dir, 'play.yml'), { registry })],
      {
        check: false,
        diff: false,
        forks: 5,
        verbosity: 0,
        tags: { only: [], skip: [] },
        forceHandlers: false,
        extraVars: {},
        become: { enabled: false },
      },
      {
        inventory: loadInventory([join(dir, 'hosts.yml')]),
        registry,
        reporter: { emit: (e) => void events.push(e), close: async () => {} },
        makeConnection: (host, vars, via) => {
          made.push(`${host}:${String(vars.ansible_connection)}`);
          const conn = openConnection(host, vars, { hostConnection: via });
          const close = conn.close.bind(conn);
          const counted: Connection = Object.assign(conn, {
            close: async () => {
              closed.push(host);
              await close();
            },
          });
          return counted;
        },
      },
    );
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
    assert.deepEqual(log.filter((l) => l.startsWith('status')).sort(), ['status 101', 'status 102']);
    assert.ok(log.filter((l) => l.startsWith('exec 101 -- sh -c')).length >= 2, log.join('\n'));
    assert.ok(
      log.every((l) => /^(status|exec) 10[12]\b/.test(l)),
      log.join('\n'),
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
    writeFileSync(join(dir, 'play.yml'), '- hosts: ct9\n  tasks:\n    - command: "true"\n');
    const registry = await loadRegistry();
    const events: RunEvent[] = [];
    const outcome = await runPlaybooks(
      [loadPlaybook(join(dir, 'play.yml'), { registry })],
      {
        check: false,
        diff: false,
        forks: 1,
        verbosity: 0,
        tags: { only: [], skip: [] },
        forceHandlers: false,
        extraVars: {},
        become: { enabled: false },
      },
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

test('a hypervisor login that is not root: the CT is unreachable, saying pct needs root; pct is never run', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'phx-pct-run-'));
  const path = process.env.PATH;
  try {
    writeFileSync(join(dir, 'pct'), FAKE_PCT);
    writeFileSync(join(dir, 'id'), '#!/bin/sh\ncase "$1" in -u) echo 1000 ;; -un) echo alice ;; esac\n');
    chmodSync(join(dir, 'pct'), 0o755);
    chmodSync(join(dir, 'id'), 0o755);
    process.env.PATH = `${dir}:${path}`;
    process.env.PCT_LOG = join(dir, 'pct.log');
    const conn = openConnection(
      'ct1',
      { ansible_connection: 'pct', ansible_host: 'hv', pct_vmid: '101' },
      { hostConnection: () => Promise.resolve(openConnection('hv', { ansible_connection: 'local' })) },
    );
    await assert.rejects(
      conn.connect(),
      /^UnreachableError: ct1: cannot use CT 101 on hv: logged in as alice, not root: pct needs root$/,
    );
    assert.equal(existsSync(join(dir, 'pct.log')), false, 'pct never ran');
  } finally {
    process.env.PATH = path;
    delete process.env.PCT_LOG;
    rmSync(dir, { recursive: true, force: true });
  }
});
