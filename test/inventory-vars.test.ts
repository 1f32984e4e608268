// A host's inventory variables: Ansible's precedence across inventory files,
// group_vars/ and host_vars/ beside the inventory and beside the playbook,
// group depth / priority / name order, and the magic variables.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostVariables, loadInventory, sortedHostGroups } from '../src/inventory/index.js';
import { removeTrees, tree } from './fixtures/inventory/tree.js';

after(removeTrees);

// Twelve levels, lowest first. Level k sets v<k>..v12 to its own name, so vK
// must come out as level K's name: each level beats every level below it.
const LEVELS = [
  'inventory file: all',
  'inventory file: parent group',
  'inventory file: child group',
  'inventory group_vars/all',
  'playbook group_vars/all',
  'inventory group_vars/parent',
  'inventory group_vars/child',
  'playbook group_vars/parent',
  'playbook group_vars/child',
  'inventory file: host',
  'inventory host_vars/host',
  'playbook host_vars/host',
];
const varsOfLevel = (k: number): Record<string, string> =>
  Object.fromEntries(LEVELS.slice(k - 1).map((_, i) => [`v${k + i}`, LEVELS[k - 1]]));
const yamlVars = (k: number, indent: string): string =>
  Object.entries(varsOfLevel(k))
    .map(([name, value]) => `${indent}${name}: "${value}"`)
    .join('\n');

describe('variable precedence', () => {
  const dir = tree({
    'inventory/hosts.yml': [
      'all:',
      '  vars:',
      yamlVars(1, '    '),
      '  children:',
      '    parent:',
      '      vars:',
      yamlVars(2, '        '),
      '      children:',
      '        child:',
      '          vars:',
      yamlVars(3, '            '),
      '          hosts:',
      '            h1:',
      yamlVars(10, '              '),
    ].join('\n'),
    'inventory/group_vars/all.yml': yamlVars(4, ''),
    'playbooks/group_vars/all.yml': yamlVars(5, ''),
    'inventory/group_vars/parent.yml': yamlVars(6, ''),
    'inventory/group_vars/child.yaml': yamlVars(7, ''),
    'playbooks/group_vars/parent.json': JSON.stringify(varsOfLevel(8)),
    'playbooks/group_vars/child': yamlVars(9, ''), // no extension
    'inventory/host_vars/h1.yml': yamlVars(11, ''),
    'playbooks/host_vars/h1/main.yml': yamlVars(12, ''), // a directory of files
  });
  const inv = loadInventory([join(dir, 'inventory/hosts.yml')]);

  it('applies the twelve levels in Ansible order', () => {
    const vars = hostVariables(inv, 'h1', { playbookDir: join(dir, 'playbooks') });
    for (let k = 1; k <= LEVELS.length; k++) assert.equal(vars[`v${k}`], LEVELS[k - 1], `v${k}`);
  });

  it('without a playbook dir, the playbook levels do not apply', () => {
    const vars = hostVariables(inv, 'h1');
    assert.equal(vars.v5, LEVELS[3]);
    assert.equal(vars.v8, LEVELS[6]);
    assert.equal(vars.v9, LEVELS[6]);
    assert.equal(vars.v12, LEVELS[10]);
  });

  it('orders groups by depth, then ansible_group_priority, then name', () => {
    const d = tree({
      'hosts.ini': [
        '[zeta]',
        'h',
        '[alpha]',
        'h',
        '[prio]',
        'h',
        '[deep]',
        'h',
        '[alpha:children]',
        'deep',
        '[zeta:vars]',
        'x=zeta',
        'y=zeta',
        '[alpha:vars]',
        'x=alpha',
        'y=alpha',
        'z=alpha',
        '[prio:vars]',
        'ansible_group_priority=10',
        'y=prio',
        '[deep:vars]',
        'z=deep',
      ].join('\n'),
    });
    const i = loadInventory([join(d, 'hosts.ini')]);
    assert.deepEqual(sortedHostGroups(i, 'h'), ['alpha', 'zeta', 'prio', 'deep']);
    const vars = hostVariables(i, 'h');
    assert.equal(vars.x, 'zeta'); // same depth: alphabetical, the later name wins
    assert.equal(vars.y, 'prio'); // higher priority wins over the name order
    assert.equal(vars.z, 'deep'); // a child group beats its parent
  });

  it('replaces dict variables instead of merging them (hash_behaviour=replace)', () => {
    const d = tree({
      'inv.yml': 'web:\n  vars:\n    cfg: { a: 1, b: 2 }\n  hosts:\n    w1:\n',
      'host_vars/w1.yml': 'cfg:\n  b: 3\n',
    });
    const vars = hostVariables(loadInventory([join(d, 'inv.yml')]), 'w1');
    assert.deepEqual(vars.cfg, { b: 3 });
  });

  it('merges a group_vars directory in lexical order, recursing, skipping hidden and backup files', () => {
    const d = tree({
      'inv.yml': 'web:\n  hosts:\n    w1:\n',
      'group_vars/web/10-base.yml': 'a: base\nb: base\nc: base\n',
      'group_vars/web/20-override.yaml': 'b: override\n',
      'group_vars/web/30-sub/x.yml': 'c: sub\n',
      'group_vars/web/.hidden.yml': 'a: hidden\n',
      'group_vars/web/99.yml~': 'a: backup\n',
      'group_vars/web/notes.txt': 'a: text\n',
      'group_vars/web.yml': 'a: shadowed by the directory\n',
    });
    const vars = hostVariables(loadInventory([join(d, 'inv.yml')]), 'w1');
    assert.equal(vars.a, 'base');
    assert.equal(vars.b, 'override');
    assert.equal(vars.c, 'sub');
  });

  it('reads group_vars/host_vars inside a directory source, and beside every source in order', () => {
    const d = tree({
      'a/inv.yml': 'web:\n  hosts:\n    w1:\n',
      'a/group_vars/web.yml': 'from_a: yes\nwho: a\n',
      'b/hosts/inv.ini': '[web]\nw1\n',
      'b/hosts/group_vars/web.yml': 'who: b\n',
      'b/hosts/host_vars/w1.yml': 'host_b: 1\n',
    });
    const vars = hostVariables(loadInventory([join(d, 'a/inv.yml'), join(d, 'b/hosts')]), 'w1');
    assert.equal(vars.from_a, true);
    assert.equal(vars.who, 'b');
    assert.equal(vars.host_b, 1);
  });

  it('reads each vars file once per inventory, however many hosts ask', () => {
    const d = tree({ 'inv.yml': 'web:\n  hosts:\n    w[1:50]:\n', 'group_vars/web.yml': 'num: 1\n' });
    const inv = loadInventory([join(d, 'inv.yml')]);
    assert.equal(hostVariables(inv, 'w1').num, 1);
    writeFileSync(join(d, 'group_vars/web.yml'), 'num: 2\n');
    for (let i = 2; i <= 50; i++) assert.equal(hostVariables(inv, `w${i}`).num, 1);
    assert.equal(hostVariables(loadInventory([join(d, 'inv.yml')]), 'w1').num, 2, 'a new load reads again');
  });

  it('normalizes ansible_connection paramiko to ssh and passes connection vars through', () => {
    const d = tree({
      hosts:
        'h1 ansible_connection=paramiko ansible_port=2201 ansible_user=root ansible_become=true ansible_become_user=admin\n',
    });
    const vars = hostVariables(loadInventory([join(d, 'hosts')]), 'h1');
    assert.equal(vars.ansible_connection, 'ssh');
    assert.equal(vars.ansible_port, 2201);
    assert.equal(vars.ansible_user, 'root');
    assert.equal(vars.ansible_become, 'true'); // Python's literal is True; 'true' stays a string, as in Ansible
    assert.equal(vars.ansible_become_user, 'admin');
  });
});

describe('magic variables', () => {
  const d = tree({
    'inv.yml': [
      'all:',
      '  hosts:',
      '    lonely:',
      '    10.0.0.1:',
      '  children:',
      '    pve:',
      '      hosts:',
      '        pve01.lab.example:',
      '      children:',
      '        zfs:',
      '          hosts:',
      '            pve02:',
      '    backup:',
      '      hosts:',
      '        pve02:',
    ].join('\n'),
    'group_vars/all.yml': 'site: lab\n',
    'host_vars/localhost.yml': 'only_here: 1\n',
  });
  const inv = loadInventory([join(d, 'inv.yml')]);

  it('sets inventory_hostname, inventory_hostname_short and sorted group_names', () => {
    const v = hostVariables(inv, 'pve01.lab.example');
    assert.equal(v.inventory_hostname, 'pve01.lab.example');
    assert.equal(v.inventory_hostname_short, 'pve01');
    assert.deepEqual(v.group_names, ['pve']);
    assert.deepEqual(hostVariables(inv, 'pve02').group_names, ['backup', 'pve', 'zfs']);
    assert.equal(hostVariables(inv, '10.0.0.1').inventory_hostname_short, '10.0.0.1');
  });

  it("lists 'ungrouped' in group_names of an ungrouped host, as Ansible does", () => {
    assert.deepEqual(hostVariables(inv, 'lonely').group_names, ['ungrouped']);
  });

  it('maps every group to its hosts in groups, including all and ungrouped', () => {
    const v = hostVariables(inv, 'lonely');
    assert.deepEqual(v.groups, {
      all: ['lonely', '10.0.0.1', 'pve01.lab.example', 'pve02'],
      ungrouped: ['lonely', '10.0.0.1'],
      pve: ['pve01.lab.example', 'pve02'],
      zfs: ['pve02'],
      backup: ['pve02'],
    });
    (v.groups as Record<string, string[]>).all.push('mutated');
    assert.equal(
      (hostVariables(inv, 'lonely').groups as Record<string, string[]>).all.length,
      4,
      'each call gets its own copy',
    );
  });

  it('gives the implicit localhost a local connection, group_vars/all and its host_vars', () => {
    const v = hostVariables(inv, 'localhost');
    assert.equal(v.ansible_connection, 'local');
    assert.equal(v.site, 'lab');
    assert.equal(v.only_here, 1);
    assert.deepEqual(v.group_names, []);
    assert.ok(!(v.groups as Record<string, string[]>).all.includes('localhost'));
  });

  it('treats a localhost listed in the inventory as an ordinary host', () => {
    const i = loadInventory(['localhost,']);
    const v = hostVariables(i, 'localhost');
    assert.equal(v.ansible_connection, undefined);
    assert.deepEqual(v.group_names, ['ungrouped']);
  });

  it('refuses a host that is not in the inventory', () => {
    assert.throws(() => hostVariables(inv, 'nope'), /host 'nope' is not in the inventory/);
  });
});
