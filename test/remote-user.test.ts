// remote_user on plays, blocks and tasks: the user of the connection a task runs on. Ansible's
// PlayContext.set_task_and_variable_override takes the task's remote_user (inherited from its
// blocks and play, playbook/base.py), and the task's ansible_user (inventory, play or task vars) wins
// over it (variables override keywords); TaskExecutor._execute_internal reconnects when the context differs. Here: one
// connection per host and user, each opened once and closed once at the end, at most
// MAX_CONNECTIONS_PER_HOST per host.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalConnection } from '../src/connection/local.js';
import type { RunEvent } from '../src/events.js';
import { MAX_CONNECTIONS_PER_HOST, runPlaybooks } from '../src/executor/run.js';
import { loadInventory } from '../src/inventory/index.js';
import { loadPlaybook } from '../src/playbook/load.js';
import { loadRegistry } from '../src/registry.js';
import { plainExecutorOptions } from './helpers/executor-options.js';

async function run(playbook: string, inventory: string) {
  const dir = mkdtempSync(join(tmpdir(), 'phx-remote-user-'));
  try {
    writeFileSync(join(dir, 'hosts.ini'), inventory);
    writeFileSync(join(dir, 'play.yml'), playbook);
    const registry = await loadRegistry();
    const events: RunEvent[] = [];
    const made: string[] = [];
    const closed: string[] = [];
    const outcome = await runPlaybooks([loadPlaybook(join(dir, 'play.yml'), { registry })], plainExecutorOptions(), {
      inventory: loadInventory([join(dir, 'hosts.ini')]),
      registry,
      reporter: { emit: (e) => void events.push(e), close: async () => {} },
      // the user each connection is made for; the commands run here, on the controller
      makeConnection: (host, vars) => {
        const user = `${host}:${String(vars.ansible_user)}`;
        made.push(user);
        const conn = new LocalConnection();
        return Object.assign(conn, {
          close: () => {
            closed.push(user);
            return Promise.resolve();
          },
        });
      },
    });
    return { outcome, events, made, closed };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('remote_user of the play, a block and a task each get a connection; ansible_user wins', async () => {
  const r = await run(
    `
- hosts: all
  gather_facts: false
  remote_user: alice
  tasks:
    - command: "true"
    - block:
        - command: "true"
        - command: "true"
          remote_user: "{{ 'carol' }}"
      remote_user: bob
    - command: "true"
`,
    '[all]\nh1\nh2 ansible_user=dave\n',
  );
  assert.equal(r.outcome.exitCode, 0, JSON.stringify(r.events.filter((e) => e.type === 'host_result')));
  assert.deepEqual(r.made.sort(), ['h1:alice', 'h1:bob', 'h1:carol', 'h2:dave'], 'one per host and user, once');
  assert.deepEqual(r.closed.sort(), r.made.sort(), 'each closed once at the end');
});

test('a host gets at most MAX_CONNECTIONS_PER_HOST users in a run: the next is unreachable, saying why', async () => {
  const r = await run(
    `
- hosts: all
  gather_facts: false
  tasks:
    - command: "true"
      remote_user: "u{{ item }}"
      loop: "{{ range(${MAX_CONNECTIONS_PER_HOST + 1}) | list }}"
`,
    '[all]\nh1\n',
  );
  assert.equal(r.made.length, MAX_CONNECTIONS_PER_HOST);
  assert.deepEqual(r.closed.sort(), r.made.sort());
  const unreachable = r.events.filter((e) => e.type === 'host_result' && e.status === 'unreachable');
  assert.equal(unreachable.length, 1);
  assert.match(JSON.stringify(unreachable[0]), /more than 8 connections \(remote users\)/);
});

test('ansible_user in play or task vars wins over remote_user and over the inventory', async () => {
  const r = await run(
    `
- hosts: all
  gather_facts: false
  remote_user: alice
  vars: { ansible_user: erin }
  tasks:
    - command: "true"
    - command: "true"
      vars: { ansible_user: "{{ 'frank' }}" }
      remote_user: carol
`,
    '[all]\nh1\nh2 ansible_user=dave\n',
  );
  assert.equal(r.outcome.exitCode, 0, JSON.stringify(r.events.filter((e) => e.type === 'host_result')));
  assert.deepEqual(r.made.sort(), ['h1:erin', 'h1:frank', 'h2:erin', 'h2:frank']);
});
