// with_first_found as ansible-core 2.14's first_found lookup (lib/ansible/plugins/lookup/first_found.py
// at v2.14.0, LookupModule._process_terms / run), searched with LookupBase.find_file_in_search_path (the role's directory, then the
// playbook's; each with the subdir executor/task_executor.py _get_loop_items sets by the action first).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { localInventory, recap, runCli, workspace } from './helpers/cli.js';

type Ws = ReturnType<typeof workspace>;

async function play(ws: Ws, yaml: string) {
  ws.write('inv.ini', localInventory(['h1']));
  ws.write('pb.yml', yaml);
  return runCli(['-i', ws.path('inv.ini'), ws.path('pb.yml')], { cwd: ws.dir });
}

/** the msg lines debug printed, in order */
function said(stdout: string): string[] {
  return [...stdout.matchAll(/"msg": "([^"]*)"/g)].map((m) => m[1]);
}

describe('with_first_found', () => {
  let ws: Ws;
  before(() => {
    ws = workspace({
      'roles/r/vars/Debian.yml': 'where: role vars\n',
      'roles/r/tasks/main.yml': `
- include_vars: "{{ item }}"
  with_first_found: ["{{ undefined_os }}.yml", "{{ os }}.yml", default.yml]
- debug: { msg: "r {{ where }}" }
`,
      'vars/Debian.yml': 'where: playbook vars\n',
      'vars/default.yml': 'where: playbook default\n',
      'templates/t.j2': 'x\n',
      'files/f.txt': 'f\n',
      'abs/abs.yml': 'where: absolute\n',
      'name.txt': '{{nope}}.yml',
      'vars/{{nope}}.yml': 'where: named by the host\n',
    });
  });
  after(() => ws.cleanup());

  // run(): each name templated, an undefined one passed over (`continue`); _subdir 'vars' for include_vars;
  // Task.get_search_path puts the role's directory before the playbook's
  it("include_vars finds the role's vars/ first, passing over an undefined name", async () => {
    const r = await play(ws, `- hosts: all\n  gather_facts: false\n  vars: { os: Debian }\n  roles: [r]\n`);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(said(r.stdout), ['r role vars']);
    assert.match(r.stdout, /item=.*roles\/r\/vars\/Debian\.yml/);
  });

  // _process_terms(): {files, paths} mappings, _split_on files ',;', paths ',:;', os.path.join(path, fn);
  // path_dwim_relative_stack adds no subdir to a name that already starts with it
  it('finds in the playbook directory, from {files, paths}, and an absolute name as it is', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  tasks:
    - include_vars: "{{ item }}"
      with_first_found: [{ files: "Nope.yml;default.yml", paths: "elsewhere:vars" }]
    - debug: { msg: "p {{ where }}" }
    - include_vars: "{{ item }}"
      with_first_found: [nope.yml, "${ws.path('abs/abs.yml')}"]
    - debug: { msg: "a {{ where }}" }
    # 'debug' names no template/var/file: files/, then the playbook directory (not templates/)
    - debug: { msg: "t {{ item | dirname | basename }}/{{ item | basename }}" }
      with_ansible.builtin.first_found: [t.j2, templates/t.j2]
    # 'template': templates/ first
    - template: { src: "{{ item }}", dest: "${ws.path('out.txt')}" }
      with_first_found: [t.j2]
`,
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(said(r.stdout), ['p playbook default', 'a absolute', 't templates/t.j2']);
  });

  // a name a host printed is data (unsafe): searched as it is, never templated
  it('a name from host output is data, not a template', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  tasks:
    - command: cat ${ws.path('name.txt')}
      register: out
      changed_when: false
    - include_vars: "{{ item }}"
      with_first_found: ["{{ out.stdout }}"]
    - debug: { msg: "h {{ where }}" }
`,
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(said(r.stdout), ['h named by the host']);
  });

  // run(): `if skip: return []` — a loop over no items is skipped
  it('skip: true with nothing found skips the task', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  tasks:
    - include_vars: "{{ item }}"
      with_first_found: [{ files: [none.yml], skip: true }]
`,
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(recap(r.stdout).h1, {
      ok: 0,
      changed: 0,
      unreachable: 0,
      failed: 0,
      skipped: 1,
      rescued: 0,
      ignored: 0,
    });
  });

  // run(): raise AnsibleLookupError("No file was found when using first_found.") — when the task runs,
  // so the tasks before it have run
  it("nothing found fails the task at run time with Ansible's message, located", async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  tasks:
    - debug: { msg: before }
    - include_vars: "{{ item }}"
      with_first_found: [none.yml, "{{ undefined_os }}.yml"]
`,
    );
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.deepEqual(said(r.stdout), ['before']);
    assert.match(r.stdout, /pb\.yml:6:7: No file was found when using first_found\.( |$)/m);
    assert.equal(recap(r.stdout).h1.failed, 1);
  });

  // _process_terms(): a term neither string, mapping nor list raises "Invalid term supplied, …"
  it('a number as a term fails the task, located', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  tasks:
    - debug: { msg: never }
      with_first_found: [a.yml, 1]
`,
    );
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /pb\.yml:5:7: Invalid term supplied, can handle string, mapping or list of strings but got: <class 'int'> for 1/,
    );
  });

  // Templar._lookup: the lookup's one path as text (wantlist=False), query keeps the list; no _subdir
  // is set outside a with_ loop, so files/ is searched ('_subdir', 'files')
  it("lookup('first_found') and query('first_found')", async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  tasks:
    - debug: { msg: "l {{ lookup('first_found', ['nope.txt', 'f.txt']) | basename }}" }
    - include_vars: "{{ item }}"
      loop: "{{ query('first_found', {'files': ['nope.yml', 'default.yml'], 'paths': ['vars']}) }}"
    - debug: { msg: "q {{ where }}" }
    - debug: { msg: "s {{ query('first_found', {'files': ['nope.yml'], 'skip': true}) | length }}" }
    - debug: { msg: "{{ lookup('first_found', 'nope.yml') }}" }
`,
    );
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.deepEqual(said(r.stdout), ['l f.txt', 'q playbook default', 's 0']);
    assert.match(r.stdout, /No file was found when using first_found/);
  });
});
