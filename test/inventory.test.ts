// Inventory formats and sources: YAML, INI (with Ansible's value typing),
// host ranges, -i directory / comma list / several sources merged.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadInventory, expandRanges, iniValue, type Inventory } from '../src/inventory/index.js';
import { removeTrees, tree } from './fixtures/inventory/tree.js';

after(removeTrees);

const hostNames = (inv: Inventory) => [...inv.hosts.keys()];
const group = (inv: Inventory, name: string) => {
  const g = inv.groups.get(name);
  assert.ok(g, `group ${name} exists`);
  return g;
};

describe('YAML inventory', () => {
  const yaml = `
all:
  vars:
    site: lab
  hosts:
    loose:
  children:
    pve:
      vars:
        role: hypervisor
      hosts:
        pve01:
          ansible_host: 127.0.0.1
          ansible_port: 2201
        pve02:
      children:
        pve_storage:
          hosts:
            pve02:
              zfs: true
            nas[1:2]:
    backup:
      hosts:
        pve01:
        pbs:2222:
          ansible_user: backup
`;

  it('reads groups, hosts, vars and children at every level', () => {
    const dir = tree({ 'inv.yml': yaml });
    const inv = loadInventory([join(dir, 'inv.yml')]);
    assert.deepEqual(hostNames(inv), ['loose', 'pve01', 'pve02', 'nas1', 'nas2', 'pbs']);
    assert.deepEqual(group(inv, 'all').vars, { site: 'lab' });
    assert.deepEqual(group(inv, 'all').children, ['ungrouped', 'pve', 'backup']);
    assert.deepEqual(group(inv, 'pve').vars, { role: 'hypervisor' });
    assert.deepEqual(group(inv, 'pve').hosts, ['pve01', 'pve02']);
    assert.deepEqual(group(inv, 'pve').children, ['pve_storage']);
    assert.deepEqual(group(inv, 'pve_storage').parents, ['pve']);
    assert.deepEqual(group(inv, 'pve_storage').hosts, ['pve02', 'nas1', 'nas2']);
    assert.deepEqual(inv.hosts.get('pve01')?.vars, { ansible_host: '127.0.0.1', ansible_port: 2201 });
    assert.deepEqual(inv.hosts.get('pve02')?.vars, { zfs: true });
  });

  it('puts a host listed in several groups in each of them, once', () => {
    const inv = loadInventory([join(tree({ 'inv.yaml': yaml }), 'inv.yaml')]);
    assert.deepEqual(inv.hosts.get('pve01')?.groups, ['pve', 'backup']);
    assert.deepEqual(inv.hosts.get('pve02')?.groups, ['pve', 'pve_storage']);
  });

  it('takes the port from host:port and makes hosts listed only under all ungrouped', () => {
    const inv = loadInventory([join(tree({ 'inv.yml': yaml }), 'inv.yml')]);
    assert.deepEqual(inv.hosts.get('pbs')?.vars, { ansible_port: 2222, ansible_user: 'backup' });
    assert.deepEqual(group(inv, 'ungrouped').hosts, ['loose']);
    assert.deepEqual(inv.hosts.get('loose')?.groups, ['all', 'ungrouped']);
  });

  it('reads JSON inventories and keeps YAML 1.1 typing (yes, octal)', () => {
    const dir = tree({
      'inv.json': JSON.stringify({ web: { hosts: { w1: { n: 1 } }, vars: { tls: true } } }),
      'inv11.yml': 'all:\n  hosts:\n    h:\n      flag: yes\n      mode: 0644\n',
    });
    const inv = loadInventory([join(dir, 'inv.json'), join(dir, 'inv11.yml')]);
    assert.deepEqual(inv.hosts.get('w1')?.vars, { n: 1 });
    assert.deepEqual(group(inv, 'web').vars, { tls: true });
    assert.deepEqual(inv.hosts.get('h')?.vars, { flag: true, mode: 0o644 });
  });

  it('accepts a single host or child written as a string', () => {
    const dir = tree({ 'inv.yml': 'web:\n  hosts: w1\nprod:\n  children: web\n' });
    const inv = loadInventory([join(dir, 'inv.yml')]);
    assert.deepEqual(group(inv, 'web').hosts, ['w1']);
    assert.deepEqual(group(inv, 'prod').children, ['web']);
  });

  it('detects YAML in a file without extension by its content', () => {
    const dir = tree({ hosts: 'all:\n  children:\n    web:\n      hosts:\n        w1:\n' });
    const inv = loadInventory([join(dir, 'hosts')]);
    assert.deepEqual(group(inv, 'web').hosts, ['w1']);
  });
});

describe('INI inventory', () => {
  const ini = `# lab hypervisors
loose1
loose2 ansible_connection=local

[pve]
pve[01:03] ansible_user=root
db1:2222 ansible_host=127.0.0.1 ansible_port=2201 x="a b"   # inline comment

[pve:vars]
http_port=8080
greeting = hello world
flag=yes

[storage]
pve02

[prod:children]
pve
storage

[all:vars]
site=lab
`;

  it('reads sections, hosts, ranges, children and vars', () => {
    const dir = tree({ hosts: ini });
    const inv = loadInventory([join(dir, 'hosts')]);
    assert.deepEqual(hostNames(inv), ['loose1', 'loose2', 'pve01', 'pve02', 'pve03', 'db1']);
    assert.deepEqual(group(inv, 'pve').hosts, ['pve01', 'pve02', 'pve03', 'db1']);
    assert.deepEqual(group(inv, 'prod').children, ['pve', 'storage']);
    assert.deepEqual(group(inv, 'pve').parents, ['prod']);
    assert.deepEqual(group(inv, 'all').children, ['ungrouped', 'prod']);
    assert.deepEqual(group(inv, 'ungrouped').hosts, ['loose1', 'loose2']);
    assert.deepEqual(group(inv, 'all').vars, { site: 'lab' });
    assert.deepEqual(inv.hosts.get('pve02')?.groups, ['pve', 'storage']);
  });

  it('types inline host vars as Python literals, after shell-like quoting', () => {
    const inv = loadInventory([join(tree({ hosts: ini }), 'hosts')]);
    // the explicit ansible_port=2201 comes after the :2222 suffix and wins, as in Ansible
    assert.deepEqual(inv.hosts.get('db1')?.vars, { ansible_port: 2201, ansible_host: '127.0.0.1', x: 'a b' });
    assert.deepEqual(inv.hosts.get('pve01')?.vars, { ansible_user: 'root' });
    assert.deepEqual(inv.hosts.get('loose2')?.vars, { ansible_connection: 'local' });
  });

  it('keeps the rest of a :vars line as the value, typed only if it is a Python literal', () => {
    const inv = loadInventory([join(tree({ hosts: ini }), 'hosts')]);
    assert.deepEqual(group(inv, 'pve').vars, { http_port: 8080, greeting: 'hello world', flag: 'yes' });
  });

  it('follows the typing of Ansible examples exactly', () => {
    const dir = tree({
      'inv.ini': [
        '[t]',
        `h1 port=22 quoted_num="22" str_num="'22'" yes_word=yes py_true=True none=None list="[1, 'a']" dict="{'k': 2}"`,
        `h2 secret="'03#pa33w0rd'" math=10-5 octal=0644 ver=1.2.3 hexa=0x1F float=1.5 neg=-3 suffix=56L empty=`,
        `h3 esc="'a\\\\nb'" hash=a#b`,
        '[t:vars]',
        'v_num=23',
        "v_quoted='23'",
        'v_bool = True # comment after a literal',
        'v_word=FALSE',
        'v_text=some text # kept whole, not a literal',
      ].join('\n'),
    });
    const inv = loadInventory([join(dir, 'inv.ini')]);
    assert.deepEqual(inv.hosts.get('h1')?.vars, {
      port: 22,
      quoted_num: 22,
      str_num: '22',
      yes_word: 'yes',
      py_true: true,
      none: null,
      list: [1, 'a'],
      dict: { k: 2 },
    });
    assert.deepEqual(inv.hosts.get('h2')?.vars, {
      secret: '03#pa33w0rd',
      math: '10-5',
      octal: '0644',
      ver: '1.2.3',
      hexa: 31,
      float: 1.5,
      neg: -3,
      suffix: '56L',
      empty: '',
    });
    assert.deepEqual(inv.hosts.get('h3')?.vars, { esc: 'a\nb', hash: 'a' });
    assert.deepEqual(group(inv, 't').vars, {
      v_num: 23,
      v_quoted: '23',
      v_bool: true,
      v_word: 'FALSE',
      v_text: 'some text # kept whole, not a literal',
    });
  });

  it('accepts [group:vars] before the group is declared', () => {
    const dir = tree({ hosts: '[web:vars]\nx=1\n[web]\nw1\n' });
    const inv = loadInventory([join(dir, 'hosts')]);
    assert.deepEqual(group(inv, 'web').vars, { x: 1 });
  });

  it('accepts children declared after their parent', () => {
    const dir = tree({ hosts: '[prod:children]\nweb\n[web]\nw1\n' });
    const inv = loadInventory([join(dir, 'hosts')]);
    assert.deepEqual(group(inv, 'prod').children, ['web']);
    assert.deepEqual(group(inv, 'web').parents, ['prod']);
  });
});

describe('Python literal typing (INI values)', () => {
  it('reads numbers, strings, containers and keywords', () => {
    assert.equal(iniValue('1_000'), 1000);
    assert.equal(iniValue('0o17'), 15);
    assert.equal(iniValue('0b101'), 5);
    assert.equal(iniValue('1e3'), 1000);
    assert.equal(iniValue('.5'), 0.5);
    assert.equal(iniValue('00'), 0);
    assert.equal(iniValue('"a" \'b\''), 'ab');
    assert.equal(iniValue("r'a\\nb'"), 'a\\nb');
    assert.equal(iniValue("'\\x41\\u00e9'"), 'Aé');
    assert.deepEqual(iniValue('(1, 2)'), [1, 2]);
    assert.deepEqual(iniValue('(1,)'), [1]);
    assert.deepEqual(iniValue('()'), []);
    assert.equal(iniValue('(5)'), 5);
    assert.deepEqual(iniValue('{1, 1, 2}'), [1, 2]);
    assert.deepEqual(iniValue("{'a': [1, {'b': None}], 'c': False,}"), { a: [1, { b: null }], c: false });
    assert.equal(iniValue('true'), 'true');
    assert.equal(iniValue('9007199254740993'), '9007199254740993');
    assert.equal(iniValue("'unterminated"), "'unterminated");
    assert.equal(iniValue('[1, 2'), '[1, 2');
    assert.equal(iniValue('f"x"'), 'f"x"');
    assert.equal(iniValue('--5'), '--5');
  });
});

describe('host ranges', () => {
  it('expands numeric ranges keeping zero padding', () => {
    assert.deepEqual(expandRanges('pve[01:12]'), [
      'pve01',
      'pve02',
      'pve03',
      'pve04',
      'pve05',
      'pve06',
      'pve07',
      'pve08',
      'pve09',
      'pve10',
      'pve11',
      'pve12',
    ]);
    assert.deepEqual(expandRanges('web[8:11].lab'), ['web8.lab', 'web9.lab', 'web10.lab', 'web11.lab']);
  });

  it('expands letter ranges, steps, open starts and several ranges', () => {
    assert.deepEqual(expandRanges('node-[a:c]'), ['node-a', 'node-b', 'node-c']);
    assert.deepEqual(expandRanges('n[1:10:2]'), ['n1', 'n3', 'n5', 'n7', 'n9']);
    assert.deepEqual(expandRanges('n[:2]'), ['n0', 'n1', 'n2']);
    assert.deepEqual(expandRanges('r[1:2]-[a:b]'), ['r1-a', 'r1-b', 'r2-a', 'r2-b']);
    assert.deepEqual(expandRanges('plain'), ['plain']);
  });

  it('expands ranges in both file formats', () => {
    const dir = tree({
      'a.yml': 'all:\n  hosts:\n    "y[a:b]":\n    z[01:10:3]:\n',
      'b.ini': '[g]\nx[08:10] k=v\n',
    });
    const inv = loadInventory([join(dir, 'a.yml'), join(dir, 'b.ini')]);
    assert.deepEqual(hostNames(inv), ['ya', 'yb', 'z01', 'z04', 'z07', 'z10', 'x08', 'x09', 'x10']);
    assert.equal(inv.hosts.get('x09')?.vars.k, 'v');
  });

  it('refuses malformed ranges', () => {
    assert.throws(() => expandRanges('n[1:2:3:4]'), /bad host range \[1:2:3:4\]/);
    assert.throws(() => expandRanges('n[5:1]'), /begin 5 is greater than end 1/);
    assert.throws(() => expandRanges('n[01:100]'), /same length/);
    assert.throws(() => expandRanges('n[1:]'), /end value is missing/);
    assert.throws(() => expandRanges('n[a:5]'), /must both be numbers or both single letters/);
    assert.throws(() => expandRanges('n[1:5:0]'), /positive integer/);
  });
});

describe('-i sources', () => {
  it('gives an empty inventory with only all and ungrouped when there is no source', () => {
    const inv = loadInventory([]);
    assert.equal(inv.hosts.size, 0);
    assert.deepEqual([...inv.groups.keys()], ['all', 'ungrouped']);
    assert.deepEqual(inv.sources, []);
  });

  it('reads a comma list; a trailing comma makes one host a list', () => {
    const one = loadInventory(['pve01,']);
    assert.deepEqual(hostNames(one), ['pve01']);
    assert.deepEqual(one.hosts.get('pve01')?.groups, ['ungrouped']);
    const many = loadInventory([' a , b:2201,c[1:2],, ']);
    assert.deepEqual(hostNames(many), ['a', 'b', 'c1', 'c2']);
    assert.deepEqual(many.hosts.get('b')?.vars, { ansible_port: 2201 });
    assert.deepEqual(many.sources, [' a , b:2201,c[1:2],, ']);
  });

  it('reads every inventory file of a directory, in name order, skipping what Ansible skips', () => {
    const dir = tree({
      'inv/10-web.yml': 'web:\n  hosts:\n    w1:\n',
      'inv/20-db': '[db]\nd1\n',
      'inv/sub/30-more.ini': '[more]\nm1\n',
      'inv/old.retry': 'r1\n',
      'inv/notes.md': '# not an inventory\n',
      'inv/edit~': 'tilde\n',
      'inv/.hidden': 'hidden\n',
      'inv/group_vars/all.yml': 'x: 1\n',
      'inv/host_vars/w1.yml': 'y: 2\n',
      'inv/ansible.cfg': '[defaults]\n',
    });
    const inv = loadInventory([join(dir, 'inv')]);
    assert.deepEqual(hostNames(inv), ['w1', 'd1', 'm1']);
    assert.deepEqual([...inv.groups.keys()], ['all', 'ungrouped', 'web', 'db', 'more']);
    assert.deepEqual(inv.sources, [join(dir, 'inv')]);
  });

  it('merges several sources: hosts and memberships add up, later vars win', () => {
    const dir = tree({
      'one.yml': 'web:\n  vars: { color: red, size: 1 }\n  hosts:\n    w1: { a: 1, b: 1 }\n',
      'two.ini': '[web]\nw1 b=2\nw2\n[web:vars]\ncolor=blue\n[db]\nw1\n',
    });
    const inv = loadInventory(['one.yml', 'two.ini', 'extra1,'], { cwd: dir });
    assert.deepEqual(hostNames(inv), ['w1', 'w2', 'extra1']);
    assert.deepEqual(group(inv, 'web').hosts, ['w1', 'w2']);
    assert.deepEqual(group(inv, 'web').vars, { color: 'blue', size: 1 });
    assert.deepEqual(inv.hosts.get('w1')?.vars, { a: 1, b: 2 });
    assert.deepEqual(inv.hosts.get('w1')?.groups, ['web', 'db']);
    assert.deepEqual(inv.sources, [join(dir, 'one.yml'), join(dir, 'two.ini'), 'extra1,']);
  });

  it('leaves a host already known to another source in its groups when a comma list names it', () => {
    const dir = tree({ 'inv.yml': 'web:\n  hosts:\n    w1:\n' });
    const inv = loadInventory([join(dir, 'inv.yml'), 'w1,w9']);
    assert.deepEqual(inv.hosts.get('w1')?.groups, ['web']);
    assert.deepEqual(group(inv, 'ungrouped').hosts, ['w9']);
  });
});
