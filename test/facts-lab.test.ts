// gather_facts on lab hosts over SSH and on the local connection: one round
// trip per host (counted by the -vv command events), the pve fact read from the
// host's PVE/pvecfg.pm and /etc/pve/corosync.conf without starting a PVE tool,
// ansible_facts mirroring the ansible_* variables, and gather_facts: false
// sending nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { readToolCalls } from '../lab/sim/tool-calls.js';
import { parsePveVersion } from '../src/proxmox/pve-version.js';
import { runCli } from './helpers/cli.js';
import { useLabHost } from './harness/lab-fixture.js';

const fx = useLabHost('phx-facts-lab-', undefined, { cluster: true, hosts: 2 });

interface HostResult {
  task: string;
  host: string;
  result: Record<string, unknown>;
}

/**
 * Runs a playbook with -vv (`<host> EXEC …` per command sent); per task title
 * the hosts of the commands seen while it ran, and the hosts' results.
 */
async function play(yaml: string, inventory: string) {
  const file = join(fx.dir, `p${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(file, yaml);
  const r = await runCli(['-vv', '-i', inventory, file]);
  const commands = new Map<string, string[]>();
  const results: HostResult[] = [];
  let task = '';
  const lines = r.stdout.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const title = /^TASK \[(.*)\] \*+$/.exec(lines[i]);
    if (title) task = title[1];
    const exec = /^<(\S+)> EXEC /.exec(lines[i]);
    if (exec) commands.set(task, [...(commands.get(task) ?? []), exec[1]]);
    const ok = /^(?:ok|changed): \[(\S+)\]/.exec(lines[i]);
    if (ok && lines[i + 1] === '{') {
      const end = lines.indexOf('}', i + 1);
      results.push({
        task,
        host: ok[1],
        result: JSON.parse(lines.slice(i + 1, end + 1).join('\n')) as Record<string, unknown>,
      });
    }
  }
  return { ...r, commands, results };
}

const resultOf = (results: HostResult[], task: string, host: string) =>
  results.find((e) => e.task === task && e.host === host)?.result ?? {};

test('gather_facts over SSH: one round trip per host, Ansible names, pve fact from the files, ansible_facts mirrors', async () => {
  const hosts = fx.lab.hosts.map((h) => h.name);
  const before = fx.lab.hosts.map((h) => readToolCalls(h.root).length);
  const r = await play(
    [
      '- hosts: lab',
      '  gather_facts: true',
      '  tasks:',
      '    - name: show',
      '      debug:',
      '        msg: "{{ ansible_hostname }}|{{ ansible_facts.hostname }}|{{ ansible_pve.node }}|{{ ansible_facts.pve.version }}|{{ ansible_distribution }}|{{ ansible_host }}"',
      '',
    ].join('\n'),
    fx.lab.inventoryFile,
  );
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const gathering = r.commands.get('Gathering Facts') ?? [];
  for (const h of hosts) assert.equal(gathering.filter((e) => e === h).length, 1, `one command for ${h}`);
  assert.deepEqual(r.commands.get('show') ?? [], [], 'debug runs on the controller');
  fx.lab.hosts.forEach((h, i) =>
    assert.deepEqual(readToolCalls(h.root).slice(before[i]), [], `no PVE tool started on ${h.name}`),
  );

  const kernel = (await fx.sh('uname -r')).trim();
  const node = (await fx.sh('uname -n')).trim();
  const pveversion = parsePveVersion(await fx.sh('pveversion'))!;
  const facts = resultOf(r.results, 'Gathering Facts', hosts[0]).ansible_facts as Record<string, unknown>;
  assert.equal(facts.ansible_kernel, kernel);
  assert.equal(facts.ansible_nodename, node);
  assert.equal(facts.ansible_hostname, node.split('.')[0]);
  assert.deepEqual(facts.ansible_pve, {
    version: pveversion.text,
    major: pveversion.major,
    minor: pveversion.minor,
    kernel,
    node: node.split('.')[0],
    cluster: fx.lab.cluster!.name,
    cluster_nodes: [...hosts].sort(),
  });
  const osRelease = await fx.sh('cat /etc/os-release');
  const id = /^ID="?([^"\n]*)/m.exec(osRelease)?.[1];
  assert.equal(String(facts.ansible_distribution).toLowerCase(), id);
  assert.equal(facts.ansible_machine_id, (await fx.sh('cat /etc/machine-id')).trim() || undefined);
  const memKb = Number(/^MemTotal:\s+(\d+)/m.exec(await fx.sh('cat /proc/meminfo'))![1]);
  assert.equal(facts.ansible_memtotal_mb, Math.floor(memKb / 1024));
  assert.equal(facts.ansible_user_id, (await fx.sh('id -un')).trim());
  assert.ok(Array.isArray(facts.ansible_interfaces) && (facts.ansible_interfaces as string[]).includes('lo'));
  assert.equal((facts.ansible_env as Record<string, string>).HOME, (await fx.sh('echo "$HOME"')).trim());
  assert.deepEqual(facts.gather_subset, ['all']);

  const shown = resultOf(r.results, 'show', hosts[0]).msg as string;
  const [hn, mirrored, pveNode, pveVersion, distribution, ansibleHost] = shown.split('|');
  assert.equal(hn, node.split('.')[0]);
  assert.equal(mirrored, hn, 'ansible_facts.hostname mirrors ansible_hostname');
  assert.equal(pveNode, hn);
  assert.equal(pveVersion, pveversion.text);
  assert.equal(distribution, facts.ansible_distribution);
  assert.equal(ansibleHost, '127.0.0.1', "the inventory's ansible_host");
});

test('gather_facts: false sends nothing; setup with gather_subset/filter is one round trip that adds to the facts', async () => {
  const r = await play(
    [
      '- hosts: lab',
      '  gather_facts: false',
      '  tasks:',
      '    - name: nothing yet',
      '      debug:',
      '        msg: "{{ ansible_hostname | default(\'none\') }}"',
      '    - name: only the network',
      '      setup:',
      '        gather_subset: ["!all", "!min", network]',
      '        filter: ["ansible_default_ipv4", "ansible_interfaces"]',
      '    - name: after',
      '      debug:',
      '        msg: "{{ ansible_facts.interfaces | length > 0 }}|{{ ansible_hostname | default(\'none\') }}"',
      '',
    ].join('\n'),
    fx.lab.inventoryFile,
  );
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.ok(
    !r.results.some((e) => e.task === 'Gathering Facts') && !r.stdout.includes('Gathering Facts'),
    'no implicit task',
  );
  assert.deepEqual(r.commands.get('nothing yet') ?? [], [], 'no round trip before the setup task');
  assert.equal(resultOf(r.results, 'nothing yet', fx.host).msg, 'none');
  assert.equal((r.commands.get('only the network') ?? []).filter((e) => e === fx.host).length, 1);
  const facts = resultOf(r.results, 'only the network', fx.host).ansible_facts as Record<string, unknown>;
  assert.deepEqual(Object.keys(facts).sort(), [
    'ansible_default_ipv4',
    'ansible_interfaces',
    'gather_subset',
    'module_setup',
  ]);
  assert.equal(resultOf(r.results, 'after', fx.host).msg, 'true|none');
});

test('gather_facts on the local connection: one command, the machine itself; ansible_host is the inventory name', async () => {
  const inv = join(fx.dir, 'local.ini');
  writeFileSync(inv, '[all]\nmybox ansible_connection=local\n');
  const r = await play(
    [
      '- hosts: mybox',
      '  gather_facts: yes',
      '  tasks:',
      '    - name: show',
      '      debug:',
      '        msg: "{{ ansible_nodename }}|{{ ansible_host }}|{{ ansible_facts.nodename }}"',
      '',
    ].join('\n'),
    inv,
  );
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal((r.commands.get('Gathering Facts') ?? []).length, 1);
  assert.equal(resultOf(r.results, 'show', 'mybox').msg, `${hostname()}|mybox|${hostname()}`);
});
