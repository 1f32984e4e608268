// add_host and group_by through the real CLI on the local connection (issue 15 item 7). Each case
// names the Ansible source it follows: lib/ansible/plugins/action/add_host.py (ActionModule.run:
// BYPASS_HOST_LOOP, name/hostname/host, host:port, groups as a list or comma list, the other
// arguments as host vars), lib/ansible/plugins/action/group_by.py (key, parents, spaces → '-'),
// and lib/ansible/plugins/strategy/__init__.py StrategyBase._add_host / _add_group (the inventory
// change and `changed`).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { localInventory, recap, runCli, workspace } from './helpers/cli.js';

type Ws = ReturnType<typeof workspace>;

async function play(ws: Ws, yaml: string, hosts = ['h1', 'h2'], args: string[] = [], extra = '') {
  ws.write('inv.ini', localInventory(hosts, extra));
  ws.write('pb.yml', yaml);
  return runCli(['-i', ws.path('inv.ini'), ws.path('pb.yml'), ...args], { cwd: ws.dir });
}

/** the msg lines debug printed, in order */
function said(stdout: string): string[] {
  return [...stdout.matchAll(/"msg": "([^"]*)"/g)].map((m) => m[1]);
}

describe('add_host', () => {
  let ws: Ws;
  before(() => (ws = workspace({ 'group_vars/added.yml': 'from_group_vars: gv\n' })));
  after(() => ws.cleanup());

  // add_host.py run + strategy _add_host: a host with groups and vars, targeted by a later play
  it('adds a host with groups and variables that a later play targets; group_vars of the new group apply', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  tasks:
    - add_host:
        name: new1
        groups: added, other
        ansible_connection: local
        colour: red
      register: a
    - debug: { msg: "changed {{ a.changed }} {{ a.add_host.host_name }} {{ a.add_host.groups | join(',') }}" }
      when: a is defined
    - add_host: { name: new1, groups: [added], ansible_connection: local, colour: red }
      register: again
    - debug: { msg: "again {{ again.changed }}" }
      when: again is defined
- hosts: added
  gather_facts: false
  tasks:
    - debug: { msg: "{{ inventory_hostname }} {{ colour }} {{ from_group_vars }} {{ group_names | join(',') }} {{ groups.added | join(',') }}" }
`,
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    // BYPASS_HOST_LOOP: once, on the first host only (h2 gets no result of its own)
    assert.deepEqual(said(r.stdout), ['changed true new1 added,other', 'again false', 'new1 red gv added,other new1']);
    // the registered result is h1's only: h2 skips both debugs and ran nothing else
    assert.deepEqual([recap(r.stdout).h2.ok, recap(r.stdout).h2.skipped], [0, 2]);
    const counts = recap(r.stdout);
    assert.equal(counts.h1.changed, 1);
    assert.equal(counts.new1.ok, 1);
  });

  // add_host.py: a loop adds one host per item, still on the first host only; `host:port` sets ansible_ssh_port
  it('a loop adds a host per item; name:port sets ansible_ssh_port; check mode adds too', async () => {
    const r = await play(
      ws,
      `
- hosts: h1
  gather_facts: false
  tasks:
    - add_host: { name: "{{ item }}", group: looped, ansible_connection: local }
      loop: [l1, "l2:2222"]
- hosts: looped
  gather_facts: false
  tasks:
    - debug: { msg: "{{ inventory_hostname }} {{ ansible_ssh_port | default('none') }}" }
`,
      ['h1'],
      ['--check'],
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(said(r.stdout), ['l1 none', 'l2 2222']);
  });

  it('a hostile name, group or connection variable is refused: before the run when literal, at the task when templated', async () => {
    const literal = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  tasks:
    - add_host: { name: "a,b" }
    - add_host: { name: "x", groups: "ok, !all" }
    - add_host: { name: "y", ansible_port: 99999 }
    - add_host: { name: "-oProxyCommand=sh" }
`,
      ['h1'],
    );
    assert.notEqual(literal.code, 0);
    assert.match(literal.stderr, /pb\.yml:5:\d+: .*"a,b" is not a host name/);
    assert.match(literal.stderr, /pb\.yml:6:\d+: .*"!all" is not a group name/);
    assert.match(literal.stderr, /pb\.yml:7:\d+: .*ansible_port must be an integer from 1 to 65535/);
    assert.match(literal.stderr, /pb\.yml:8:\d+: .*is not a host name/);

    const templated = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  vars: { evil: "web*:!db" }
  tasks:
    - add_host: { name: "{{ evil }}", ansible_connection: local }
- hosts: all
  gather_facts: false
  tasks:
    - debug: { msg: "reached {{ inventory_hostname }}" }
`,
      ['h1'],
    );
    assert.equal(templated.code, 2, templated.stdout + templated.stderr);
    assert.match(templated.stdout, /is not a host name/);
    assert.deepEqual(said(templated.stdout), []);
  });

  // src/inventory/pct-hosts.ts: a container host added at run time is checked as an inventory's would be
  it('a pct host whose hypervisor is not in the inventory is refused and not added', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  tasks:
    - add_host: { name: ct1, ansible_connection: pct, ansible_host: nosuch, pct_vmid: 101 }
      ignore_errors: true
- hosts: all
  gather_facts: false
  tasks:
    - debug: { msg: "reached {{ inventory_hostname }}" }
`,
      ['h1'],
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /nosuch/);
    assert.deepEqual(said(r.stdout), ['reached h1']);
  });
});

describe('group_by', () => {
  let ws: Ws;
  before(() => (ws = workspace({ 'group_vars/kind_web.yml': 'port: 8080\n' })));
  after(() => ws.cleanup());

  // group_by.py: the key names a group per host; strategy _add_group: parents made, host added, changed
  it('puts each host in the group its value names; later plays target it and its group_vars apply', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  tasks:
    - group_by: { key: "kind_{{ kind }}", parents: [servers] }
      register: g
    - debug: { msg: "{{ inventory_hostname }} {{ g.add_group }} {{ g.parent_groups | join(',') }} {{ g.changed }}" }
    - group_by: { key: "kind_{{ kind }}", parents: servers }
      register: again
    - debug: { msg: "again {{ again.changed }}" }
- hosts: kind_web
  gather_facts: false
  tasks:
    - debug: { msg: "web {{ inventory_hostname }} {{ port }} {{ group_names | join(',') }}" }
- hosts: servers:!kind_web
  gather_facts: false
  tasks:
    - debug: { msg: "other {{ inventory_hostname }} {{ port | default('none') }}" }
`,
      ['h1', 'h2', 'h3'],
      [],
      '[all:vars]\nkind=db\n[web]\nh1\nh3\n[web:vars]\nkind=web\n',
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(said(r.stdout), [
      'h1 kind_web servers true',
      'h2 kind_db servers true',
      'h3 kind_web servers true',
      'again false',
      'again false',
      'again false',
      'web h1 8080 kind_web,servers,web',
      'web h3 8080 kind_web,servers,web',
      'other h2 none',
    ]);
  });

  it("spaces become '-'; a value that would be a pattern fails the task, naming it", async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  vars: { bad: "x:!y" }
  tasks:
    - group_by: { key: "two words" }
    - group_by: { key: "{{ bad }}" }
      ignore_errors: true
      register: refused
    - debug: { msg: "{{ refused.msg }}" }
- hosts: two-words
  gather_facts: false
  tasks:
    - debug: { msg: "in two-words: {{ inventory_hostname }}" }
`,
      ['h1'],
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(said(r.stdout)[0], /key must be a group name/);
    assert.equal(said(r.stdout)[1], 'in two-words: h1');
  });
});
