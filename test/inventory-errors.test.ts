// Malformed inventories: each one is a PhxError pointing at file:line(:col)
// with a message that says what is wrong.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { PhxError, ValidationErrors } from '../src/errors.js';
import { sourceLine } from '../src/yaml-source.js';
import { checkHostVariables, hostVariables, loadInventory } from '../src/inventory/index.js';
import { assertLocatedError, removeTrees, tree } from './fixtures/inventory/tree.js';

after(removeTrees);

/** Loads one inventory file with the given content; returns the path errors should name. */
function loadOne(name: string, text: string): { file: string; load: () => unknown } {
  const file = join(tree({ [name]: text }), name);
  return { file, load: () => loadInventory([file]) };
}

describe('malformed YAML inventories', () => {
  it('unknown key in a group, with the nearest allowed key suggested', () => {
    const { file, load } = loadOne('inv.yml', 'all:\n  children:\n    web:\n      host:\n        w1:\n');
    assertLocatedError(load, {
      file,
      line: 4,
      col: 7,
      message: /unknown key 'host' in group 'web': did you mean 'hosts'\?/,
    });
  });

  it('a host written directly under a group', () => {
    const { file, load } = loadOne('inv.yml', 'web:\n  hosts:\n    w1:\n  w2:\n');
    const err = assertLocatedError(load, {
      file,
      line: 4,
      message: /unknown key 'w2' in group 'web' \(a group has only hosts, vars, children\)/,
    });
    assert.match(err.hint ?? '', /web: \{ hosts: \{ w2: \} \}/);
  });

  it('a group that is its own ancestor', () => {
    const { file, load } = loadOne(
      'inv.yml',
      'a:\n  children:\n    b:\n      children:\n        c:\n          children:\n            a:\n',
    );
    assertLocatedError(load, { file, line: 7, col: 13, message: /group 'a' is its own ancestor/ });
  });

  it('a duplicate key', () => {
    const { file, load } = loadOne('inv.yml', 'web:\n  hosts:\n    w1:\n    w1:\n');
    assertLocatedError(load, { file, line: 3, message: /YAML: .*unique/i });
  });

  it('a bad host range', () => {
    const { file, load } = loadOne('inv.yaml', 'pve:\n  hosts:\n    pve01:\n    pve[5:1]:\n');
    assertLocatedError(load, {
      file,
      line: 4,
      col: 5,
      message: /bad host range \[5:1\] in 'pve\[5:1\]': begin 5 is greater than end 1/,
    });
  });

  it('hosts written as a list', () => {
    const { file, load } = loadOne('inv.yml', 'web:\n  hosts:\n    - w1\n    - w2\n');
    const err = assertLocatedError(load, {
      file,
      line: 3,
      message: /'hosts' of group 'web' must be a mapping, got a list/,
    });
    assert.match(err.hint ?? '', /not as '- name' list items/);
  });

  it('a group that is not a mapping', () => {
    const { file, load } = loadOne('inv.yml', 'web:\n  hosts:\n    w1:\ndb: db1\n');
    assertLocatedError(load, {
      file,
      line: 4,
      col: 5,
      message: /group 'db' must be a mapping with hosts, vars or children, got string "db1"/,
    });
  });

  it('host variables that are not a mapping', () => {
    const { file, load } = loadOne('inv.yml', 'web:\n  hosts:\n    w1: 127.0.0.1\n');
    assertLocatedError(load, { file, line: 3, col: 9, message: /variables of host 'w1' must be a mapping/ });
  });

  it('a connection type phx-play does not have', () => {
    const { file, load } = loadOne('inv.yml', 'web:\n  vars:\n    ansible_connection: winrm\n  hosts:\n    w1:\n');
    assertLocatedError(load, {
      file,
      line: 3,
      col: 25,
      message: /ansible_connection must be 'local', 'ssh' or 'pct'.*"winrm"/,
    });
  });

  it('a port out of range', () => {
    const { file, load } = loadOne('inv.yml', 'web:\n  hosts:\n    w1:\n      ansible_port: 70000\n');
    assertLocatedError(load, {
      file,
      line: 4,
      col: 21,
      message: /ansible_port must be an integer from 1 to 65535, got 70000/,
    });
  });

  it("'all' made a child of another group", () => {
    const { file, load } = loadOne('inv.yml', 'web:\n  children:\n    all:\n');
    assertLocatedError(load, { file, line: 3, message: /group 'all' cannot be a child of 'web'/ });
  });

  it('a YAML syntax error', () => {
    const { file, load } = loadOne('inv.yml', 'web:\n  hosts:\n    w1: [unclosed\n');
    assertLocatedError(load, { file, line: 4, message: /^YAML: / });
  });

  it('a bad range in hosts written as one string', () => {
    const { file, load } = loadOne('inv.yml', 'pve:\n  hosts: pve[3:1]\n');
    assertLocatedError(load, { file, line: 2, col: 10, message: /begin 3 is greater than end 1/ });
  });

  it('a plugin configuration file', () => {
    const { file, load } = loadOne('inv.yml', 'plugin: community.general.proxmox\nurl: https://x\n');
    assertLocatedError(load, { file, line: 1, message: /inventory plugin configuration files are not supported/ });
  });

  it('an empty file', () => {
    const { file, load } = loadOne('inv.yml', '# nothing\n');
    assertLocatedError(load, { file, line: 1, message: /inventory file is empty/ });
  });
});

describe('malformed INI inventories', () => {
  it('a group that is its own ancestor', () => {
    const { file, load } = loadOne('hosts', '[a]\nh1\n[b]\nh2\n[a:children]\nb\n[b:children]\na\n');
    const err = assertLocatedError(load, { file, line: 8, col: 1, message: /group 'a' is its own ancestor/ });
    assert.equal(sourceLine(err.loc!), 'a');
  });

  it('a bad range, located at the host', () => {
    const { file, load } = loadOne('hosts.ini', '[pve]\n  pve01\n  pve[1:2:3:4] x=1\n');
    const err = assertLocatedError(load, {
      file,
      line: 3,
      col: 3,
      message: /bad host range \[1:2:3:4\] in 'pve\[1:2:3:4\]': expected begin:end or begin:end:step/,
    });
    assert.equal(sourceLine(err.loc!), '  pve[1:2:3:4] x=1');
  });

  it('a section of unknown type', () => {
    const { file, load } = loadOne('hosts', '[web]\nw1\n\n[web:host]\nw2\n');
    assertLocatedError(load, { file, line: 4, message: /section \[web:host\] has unknown type 'host'/ });
  });

  it('a section header with a space', () => {
    const { file, load } = loadOne('hosts', '[web servers]\nw1\n');
    assertLocatedError(load, { file, line: 1, message: /invalid section header \[web servers\]/ });
  });

  it('[group:vars] for a group never declared', () => {
    const { file, load } = loadOne('hosts', '[web]\nw1\n[wbe:vars]\nx=1\n');
    assertLocatedError(load, { file, line: 3, message: /section \[wbe:vars\] is for a group that is never declared/ });
  });

  it('[group:children] naming a group never declared', () => {
    const { file, load } = loadOne('hosts', '[web]\nw1\n[prod:children]\nweb\ndb\n');
    assertLocatedError(load, { file, line: 5, message: /\[prod:children\] names group 'db', which is never declared/ });
  });

  it('an unclosed quote in host variables', () => {
    const { file, load } = loadOne('hosts', '[web]\nw1 motd="hello world\n');
    assertLocatedError(load, { file, line: 2, col: 9, message: /no closing quotation/ });
  });

  it('a host variable without =', () => {
    const { file, load } = loadOne('hosts', '[web]\nw1 ansible_host=127.0.0.1 oops\n');
    assertLocatedError(load, { file, line: 2, col: 27, message: /expected key=value after host 'w1', got 'oops'/ });
  });

  it('a port out of range, located at the value', () => {
    const { file, load } = loadOne('hosts', '[web]\nw1 ansible_port=99999\n');
    assertLocatedError(load, {
      file,
      line: 2,
      col: 17,
      message: /ansible_port must be an integer from 1 to 65535, got 99999/,
    });
  });

  it('a :vars line without =', () => {
    const { file, load } = loadOne('hosts', '[web]\nw1\n[web:vars]\nhttp_port 80\n');
    assertLocatedError(load, { file, line: 4, message: /expected key=value in \[web:vars\], got 'http_port 80'/ });
  });

  it('a bad connection in [all:vars]', () => {
    const { file, load } = loadOne('hosts', 'w1\n[all:vars]\nansible_connection=telnet\n');
    assertLocatedError(load, { file, line: 3, col: 20, message: /ansible_connection must be 'local', 'ssh' or 'pct'/ });
  });
});

describe('malformed sources and vars files', () => {
  it('a source that does not exist', () => {
    assert.throws(
      () => loadInventory(['no/such/inventory.yml'], { cwd: tree({}) }),
      (e: unknown) =>
        e instanceof PhxError && /inventory source 'no\/such\/inventory.yml' does not exist/.test(e.message),
    );
  });

  it('a file that cannot be read', () => {
    // root reads any mode, so use a file the kernel refuses to read
    assert.throws(
      () => loadInventory(['/proc/self/mem']),
      (e: unknown) => e instanceof PhxError && /^cannot read inventory \/proc\/self\/mem: EIO$/.test(e.message),
    );
  });

  it('a group_vars file with a bad port, located in that file', () => {
    const dir = tree({
      'inv.yml': 'web:\n  hosts:\n    w1:\n',
      'group_vars/web.yml': '---\nhttp: 80\nansible_port: "22x"\n',
    });
    const inv = loadInventory([join(dir, 'inv.yml')]);
    assertLocatedError(() => hostVariables(inv, 'w1'), {
      file: join(dir, 'group_vars/web.yml'),
      line: 3,
      col: 15,
      message: /ansible_port must be an integer/,
    });
  });

  it('a host_vars file that is a list', () => {
    const dir = tree({ 'inv.yml': 'web:\n  hosts:\n    w1:\n', 'pb/host_vars/w1.yml': '- a\n- b\n' });
    const inv = loadInventory([join(dir, 'inv.yml')]);
    assertLocatedError(() => hostVariables(inv, 'w1', { playbookDir: join(dir, 'pb') }), {
      file: join(dir, 'pb/host_vars/w1.yml'),
      line: 1,
      message: /must hold a mapping of variable names to values, got a list/,
    });
  });

  it('a group_vars file with a YAML error', () => {
    const dir = tree({ 'inv.yml': 'web:\n  hosts:\n    w1:\n', 'group_vars/all/main.yml': 'a: 1\na: 2\n' });
    const inv = loadInventory([join(dir, 'inv.yml')]);
    assertLocatedError(() => hostVariables(inv, 'w1'), {
      file: join(dir, 'group_vars/all/main.yml'),
      line: 2,
      message: /YAML/,
    });
  });

  it('checkHostVariables reports every broken vars file at once, before anything runs', () => {
    const dir = tree({
      'inv.yml': 'web:\n  hosts:\n    w[1:3]:\ndb:\n  hosts:\n    d1:\n',
      'group_vars/web.yml': 'ansible_connection: telnet\n',
      'host_vars/d1.yml': 'ansible_become: maybe\n',
      'group_vars/all.yml': 'fine: 1\n',
    });
    const inv = loadInventory([join(dir, 'inv.yml')]);
    let caught: unknown;
    try {
      checkHostVariables(inv);
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof ValidationErrors);
    assert.deepEqual(
      caught.errors.map((e) => `${e.loc?.file}:${e.loc?.line}: ${e.message}`),
      [
        `${join(dir, 'group_vars/web.yml')}:1: ansible_connection must be 'local', 'ssh' or 'pct' (paramiko means ssh), got "telnet"`,
        `${join(dir, 'host_vars/d1.yml')}:1: ansible_become must be a boolean (true/false, yes/no), got "maybe"`,
      ],
    );
    const fixed = tree({ 'inv.yml': 'web:\n  hosts:\n    w1:\n', 'group_vars/web.yml': 'ansible_port: 2201\n' });
    checkHostVariables(loadInventory([join(fixed, 'inv.yml')]));
  });
});
