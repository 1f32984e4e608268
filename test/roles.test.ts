// Roles (issue 15 items 4 and 9): `roles:`, import_role and include_role are loaded and validated
// before anything runs; dependencies first, each role once; role variables at Ansible's precedence;
// role handlers by name and `role : name`; role files/ and templates/ first. The role search order
// is Ansible's (lib/ansible/playbook/role/definition.py, RoleDefinition._load_role_path).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { ValidationErrors } from '../src/errors.js';
import { loadPlaybook } from '../src/playbook/index.js';
import type { Block, Play, TaskNode } from '../src/playbook/types.js';
import { localInventory, recap, runCli, workspace } from './helpers/cli.js';
import { testRegistry } from './fixtures/playbooks/registry.js';

type Ws = ReturnType<typeof workspace>;
const registry = testRegistry();

/** The roles and task names of a task list, in run order: "role:x" when a role's body starts. */
function outline(nodes: TaskNode[]): string[] {
  const out: string[] = [];
  for (const n of nodes) {
    if (n.kind === 'block') {
      if (n.role) out.push(`role:${n.role.name}`);
      out.push(...outline(n.block));
    } else if (n.kind === 'task') out.push(n.name ?? n.module);
    else if (n.kind === 'include_tasks') out.push(`include:${n.file}`, ...outline(n.preloaded ?? []));
  }
  return out;
}

function load(ws: Ws, file = 'pb.yml'): Play[] {
  return loadPlaybook(ws.path(file), { registry }).plays;
}

/** The problems of a playbook that must not load, as `file:line:col: message` relative to the workspace. */
function problems(ws: Ws, file = 'pb.yml'): string[] {
  try {
    loadPlaybook(ws.path(file), { registry });
  } catch (e) {
    assert.ok(e instanceof ValidationErrors, String(e));
    return e.errors.map((x) => {
      assert.ok(x.loc, `located: ${x.message}`);
      return `${relative(ws.dir, x.loc.file)}:${x.loc.line}:${x.loc.col}: ${x.message.split(ws.dir + '/').join('')}`;
    });
  }
  assert.fail('expected the playbook to be rejected');
}

const task = (name: string) => `- name: ${name}\n  debug: { msg: ${name} }\n`;

describe('roles: loading', () => {
  let ws: Ws;
  before(() => {
    ws = workspace({
      'roles/base/tasks/main.yml': task('base task'),
      'roles/web/meta/main.yml': 'dependencies:\n  - base\n  - role: extra\n    port: 1\n',
      'roles/web/tasks/main.yaml': task('web task'),
      'roles/web/tasks/setup.yml': task('web setup'),
      'roles/web/handlers/main.yml': '- name: restart\n  debug: { msg: r }\n',
      'roles/web/defaults/main.yml': 'port: 80\n',
      'roles/web/vars/main': 'fixed: yes\n',
      'roles/extra/tasks/main.yml': task('extra task'),
      'roles/dup/meta/main.yml': 'allow_duplicates: true\n',
      'roles/dup/tasks/main.yml': task('dup task'),
    });
  });
  after(() => ws.cleanup());

  it('puts roles after pre_tasks and before tasks, dependencies first, each once', () => {
    ws.write(
      'pb.yml',
      `- hosts: all
  gather_facts: false
  pre_tasks: [{ name: pre, debug: { msg: p } }]
  roles:
    - web
    - base
    - { role: extra, port: 1 }
    - { role: extra, port: 2 }
    - dup
    - role: dup
  tasks: [{ name: main, debug: { msg: m }, notify: "web : restart" }]
`,
    );
    const [play] = load(ws);
    assert.deepEqual(outline(play.pre_tasks), ['pre']);
    assert.deepEqual(outline(play.tasks), [
      'role:web',
      'role:base',
      'base task',
      'role:extra',
      'extra task',
      'web task',
      // base and extra with port 1 already ran; extra with other parameters runs again
      'role:extra',
      'extra task',
      'role:dup',
      'dup task',
      'role:dup',
      'dup task',
      'main',
    ]);
    const web = play.tasks[0] as Block;
    assert.deepEqual(web.role?.defaults, { port: 80 });
    assert.deepEqual(web.role?.vars, { fixed: true });
    assert.equal(web.role?.path, ws.path('roles/web'));
    assert.deepEqual(
      play.handlers.map((h) => (h.kind === 'task' ? `${h.role?.name} : ${h.name}` : h.kind)),
      ['web : restart'],
    );
  });

  it('import_role and include_role with a static name are loaded now; tasks_from picks the file', () => {
    ws.write(
      'pb.yml',
      `- hosts: all
  gather_facts: false
  tasks:
    - import_role: { name: web, tasks_from: setup }
    - include_role: { name: base }
      loop: [1, 2]
    - include_role: { name: "{{ which }}" }
`,
    );
    const [play] = load(ws);
    assert.deepEqual(outline(play.tasks), [
      'role:web',
      'role:base',
      'base task',
      'role:extra',
      'extra task',
      'web setup',
      'include:base',
      'role:base',
      'base task',
      'include:{{ which }}',
    ]);
  });

  it('a role imported inside a role brings its handlers to every play that uses it', () => {
    ws.write('roles/outer/tasks/main.yml', '- import_role: { name: inner }\n- debug: { msg: o }\n  notify: bell\n');
    ws.write('roles/inner/handlers/main.yml', '- name: bell\n  debug: { msg: ring }\n');
    ws.write(
      'pb.yml',
      '- hosts: a\n  gather_facts: false\n  roles: [outer]\n- hosts: b\n  gather_facts: false\n  roles: [outer]\n',
    );
    const plays = load(ws);
    for (const play of plays)
      assert.deepEqual(
        play.handlers.map((h) => (h.kind === 'task' ? `${h.role?.name} : ${h.name}` : h.kind)),
        ['inner : bell'],
      );
  });

  it('searches PHX_ROLES_PATH after the playbook roles/ directory', () => {
    const other = workspace({ 'lib/shared/tasks/main.yml': task('shared task') });
    try {
      ws.write('pb.yml', '- hosts: all\n  gather_facts: false\n  roles: [shared]\n');
      process.env.PHX_ROLES_PATH = `/nonexistent:${other.path('lib')}`;
      assert.deepEqual(outline(load(ws)[0].tasks), ['role:shared', 'shared task']);
    } finally {
      delete process.env.PHX_ROLES_PATH;
      other.cleanup();
    }
  });
});

describe('roles: every problem located before anything runs', () => {
  let ws: Ws;
  before(() => {
    ws = workspace({
      'roles/broken/tasks/main.yml': '- name: x\n  debgu: { msg: 1 }\n',
      'roles/broken/meta/main.yml': 'dependencies: base\n',
      'roles/badvars/defaults/main.yml': '- a list\n',
      'roles/badvars/handlers/main.yml': '- name: h\n  debug: { msg: h }\n',
      'roles/loop1/meta/main.yml': 'dependencies: [loop2]\n',
      'roles/loop2/meta/main.yml': 'dependencies: [loop1]\n',
    });
  });
  after(() => ws.cleanup());

  it('a missing role lists the paths searched; role files are checked at their own lines', () => {
    ws.write(
      'pb.yml',
      `- hosts: all
  roles:
    - nosuch
    - broken
    - badvars
    - loop1
    - { role: badvars, loop: [1], delay: 3 }
  tasks:
    - import_role: { name: "{{ x }}" }
    - import_role: { name: badvars, tasks_from: nope }
    - include_role: { name: badvars, bogus: 1 }
    - debug: { msg: hi }
      notify: "badvars : nothere"
`,
    );
    const found = problems(ws);
    const expected = [
      "pb.yml:3:7: role 'nosuch' not found; searched: ",
      "pb.yml:7:24: 'loop' cannot be used on a role entry; to loop, use include_role",
      'pb.yml:9:28: import_role is static: its name and files cannot hold a template; use include_role',
      "pb.yml:10:28: role tasks file 'nope' not found in roles/badvars/tasks",
      "pb.yml:11:38: unknown key 'bogus' in include_role",
      "pb.yml:13:15: notify: no handler named 'badvars : nothere' in this play",
      "roles/badvars/defaults/main.yml:1:1: a role's defaults file must be a mapping of variables, got a list",
      'roles/broken/meta/main.yml:1:15: \'dependencies\' expects a list of roles, got "base"',
      "roles/broken/tasks/main.yml:2:3: unknown module 'debgu'; did you mean 'debug'?",
      'roles/loop2/meta/main.yml:1:16: role dependency cycle: loop1 → loop2 → loop1',
    ];
    for (const e of expected) {
      assert.ok(
        found.some((f) => f.startsWith(e)),
        `missing ${e}\nin:\n${found.join('\n')}`,
      );
    }
    assert.equal(found.length, expected.length, found.join('\n'));
    const missing = found.find((f) => f.includes("'nosuch'"))!;
    // the playbook's roles/ first, the configured roles path (~/.ansible/roles ...), the playbook's directory last
    assert.ok(missing.includes('searched: roles, ') && missing.endsWith(`, ${ws.dir}`), missing);
  });
});

describe('roles: a run on the local connection', () => {
  let ws: Ws;
  before(() => {
    ws = workspace({
      'roles/base/tasks/main.yml': '- shell: echo base >> {{ out }}/order\n',
      'roles/common/meta/main.yml': 'dependencies: [base]\n',
      'roles/common/defaults/main.yml': 'port: 80\nlevel: default\nfixed: default\n',
      'roles/common/vars/main.yml': 'fixed: role-vars\n',
      'roles/common/files/f.txt': 'from role files\n',
      'files/f.txt': 'from playbook files\n',
      'roles/common/templates/t.j2': 'port={{ port }} level={{ level }} fixed={{ fixed }} name={{ role_name }}\n',
      'roles/common/tasks/main.yml': `- shell: echo common >> {{ out }}/order
- copy: { src: f.txt, dest: "{{ out }}/f.txt" }
- template: { src: t.j2, dest: "{{ out }}/t.txt" }
- copy: { content: "{{ role_path }}", dest: "{{ out }}/role_path" }
  notify: restart
`,
      'roles/common/handlers/main.yml': `- name: restart
  shell: echo "handler {{ fixed }}" >> {{ out }}/order
- name: second
  shell: echo "second {{ role_name }}" >> {{ out }}/order
`,
      'roles/tagged/tasks/main.yml': '- shell: echo tagged >> {{ out }}/order\n',
      'roles/skipped/tasks/main.yml': '- shell: echo skipped >> {{ out }}/order\n',
      'roles/looped/tasks/main.yml': '- shell: echo "looped {{ item }} {{ greeting }}" >> {{ out }}/order\n',
      'roles/looped/tasks/other.yml': '- shell: echo "other {{ item }}" >> {{ out }}/order\n',
      'roles/looped/defaults/main.yml': 'greeting: hello\n',
    });
  });
  after(() => ws.cleanup());

  it('runs pre_tasks, roles (dependencies first), tasks, handlers, post_tasks; tags, when, include_role loop', async () => {
    const out = ws.path('out');
    ws.write('inv.ini', localInventory(['h1'], `[all:vars]\nlevel=inventory\n`));
    ws.write(
      'pb.yml',
      `- hosts: all
  gather_facts: false
  vars:
    out: ${out}
    fixed: play-vars
    port: 9
  pre_tasks:
    - file: { path: "${out}", state: directory }
    - shell: echo pre >> ${out}/order
  roles:
    - { role: common, port: 8080 }
    - { role: tagged, tags: [t1] }
    - { role: skipped, when: false }
  tasks:
    - shell: echo tasks >> {{ out }}/order
      notify: "common : second"
    - include_role: { name: looped }
      loop: [a, b]
    - include_role: { name: "{{ which }}", tasks_from: "{{ file }}" }
      vars: { which: looped, file: other, item: c }
  post_tasks:
    - shell: echo post >> {{ out }}/order
`,
    );
    const r = await runCli(['-i', ws.path('inv.ini'), ws.path('pb.yml'), '--skip-tags', 't1'], { cwd: ws.dir });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(readFileSync(`${out}/order`, 'utf8').trim().split('\n'), [
      'pre',
      'base',
      'common',
      'tasks',
      'looped a hello',
      'looped b hello',
      'other c',
      // the role's handler runs with the role's variables, after the section of roles and tasks
      'handler role-vars',
      'second common',
      'post',
    ]);
    assert.equal(readFileSync(`${out}/f.txt`, 'utf8'), 'from role files\n');
    // parameter over play vars; inventory over defaults; role vars over play vars
    assert.equal(readFileSync(`${out}/t.txt`, 'utf8'), 'port=8080 level=inventory fixed=role-vars name=common\n');
    assert.equal(readFileSync(`${out}/role_path`, 'utf8'), ws.path('roles/common'));
    assert.ok(!existsSync(`${out}/skipped`));
    assert.equal(recap(r.stdout).h1.failed, 0);
    assert.match(r.stdout, /common : restart/); // a role's task and handler shown as Ansible shows them
  });

  // Role._load_role_yaml loads defaults/vars files without Base._load_vars's name check: a name
  // that is not an identifier loads and is reachable as vars['…']; `{{ a - b }}` is a subtraction
  it('a role default whose name is not a variable name loads and is read through vars', async () => {
    const out = ws.path('out-odd');
    ws.write('roles/odd/defaults/main.yml', 'odd-name: kept\n');
    ws.write(
      'roles/odd/tasks/main.yml',
      `- copy: { content: "{{ vars['odd-name'] }}", dest: "${out}" }\n- debug: { msg: "{{ odd - name }}" }\n`,
    );
    ws.write('inv.ini', localInventory(['h1']));
    ws.write('pb-odd.yml', `- hosts: all\n  gather_facts: false\n  roles: [odd]\n`);
    const r = await runCli(['-i', ws.path('inv.ini'), ws.path('pb-odd.yml')], { cwd: ws.dir });
    assert.notEqual(r.code, 0, r.stdout + r.stderr);
    assert.equal(readFileSync(out, 'utf8'), 'kept');
    assert.deepEqual([recap(r.stdout).h1.changed, recap(r.stdout).h1.failed], [1, 1], r.stdout);
    assert.match(r.stdout, /undefined variable 'odd'/);
  });

  it('an include_role whose templated name finds no role fails there, located', async () => {
    ws.write('inv.ini', localInventory(['h1']));
    ws.write(
      'pb2.yml',
      `- hosts: all\n  tasks:\n    - include_role: { name: "{{ 'no' + 'pe' }}" }\n  gather_facts: false\n`,
    );
    const r = await runCli(['-i', ws.path('inv.ini'), ws.path('pb2.yml')], { cwd: ws.dir });
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /pb2\.yml:3:\d+.*role 'nope' not found; searched: /s);
  });
});
