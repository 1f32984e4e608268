// include_vars through the real CLI on the local connection (issue 15 item 7). Each case names the
// Ansible source it follows: lib/ansible/plugins/action/include_vars.py (ActionModule.run,
// _set_root_dir, _traverse_dir_depth, _load_files_in_dir, _load_files, _find_needle('vars', …))
// and lib/ansible/vars/manager.py VariableManager.get_vars (the _vars_cache that include_vars
// fills comes after task vars and before the _nonpersistent_fact_cache of set_fact/register).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { localInventory, recap, runCli, workspace } from './helpers/cli.js';
import { encrypt } from '../src/vault/format.js';

type Ws = ReturnType<typeof workspace>;

async function play(ws: Ws, yaml: string, args: string[] = []) {
  ws.write('inv.ini', localInventory(['h1']));
  ws.write('pb.yml', yaml);
  return runCli(['-i', ws.path('inv.ini'), ws.path('pb.yml'), ...args], { cwd: ws.dir });
}

/** the msg lines debug printed, in order */
function said(stdout: string): string[] {
  return [...stdout.matchAll(/"msg": "([^"]*)"/g)].map((m) => m[1]);
}

describe('include_vars: files', () => {
  let ws: Ws;
  before(() => {
    ws = workspace({
      'vars/common.yml': 'colour: blue\nsize: 3\nlate: "{{ colour }}-x"\n',
      'beside.json': '{"from_json": [1, 2]}\n',
      'list.yml': '- a\n- b\n',
      'broken.yml': 'a: [1,\n',
    });
  });
  after(() => ws.cleanup());

  // _find_needle('vars', file): a relative file is looked for in vars/ beside the playbook, then beside it
  it('free form and file=, vars/ then the playbook dir, YAML and JSON; templates in the file render when used', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  tasks:
    - include_vars: common.yml
      register: inc
    - include_vars: { file: beside.json }
    - debug: { msg: "{{ colour }} {{ size + 1 }} {{ late }} {{ from_json | join(',') }}" }
    - debug: { msg: "{{ inc.ansible_included_var_files | map('basename') | join(',') }} {{ inc.changed }}" }
`,
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(said(r.stdout), ['blue 4 blue-x 1,2', 'common.yml false']);
  });

  // a file name built from host output (a fact, a registered stdout) is unsafe text (src/unsafe.ts):
  // as a path it is data, as in Ansible (`include_vars: "{{ ansible_os_family }}.yaml"`)
  it('a file, dir or pattern built from host output is used as its text', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  tasks:
    - shell: echo common
      register: out
    - include_vars: "{{ out.stdout }}.yml"
    - include_vars: { dir: vars, files_matching: "{{ out.stdout }}", name: "{{ out.stdout }}" }
    - debug: { msg: "{{ colour }} {{ common.size }}" }
`,
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(said(r.stdout), ['blue 3']);
  });

  // manager.py get_vars: task vars, then _vars_cache (include_vars), then the fact cache (set_fact)
  it('include_vars beats play and task vars, set_fact beats include_vars whatever the order', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  vars: { colour: play, size: 0 }
  tasks:
    - set_fact: { size: fact }
    - include_vars: common.yml
    - debug: { msg: "{{ colour }} {{ size }}" }
      vars: { colour: task }
- hosts: all
  gather_facts: false
  vars: { colour: second-play }
  tasks:
    - debug: { msg: "{{ colour }}" }
`,
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    // the included vars stay for later plays (a host variable, as in Ansible)
    assert.deepEqual(said(r.stdout), ['blue fact', 'blue']);
  });

  // ActionModule.run: return_results_as_name; _load_files: '… must be stored as a dictionary/hash'
  it('name puts everything under one key; a file that is not a mapping or does not exist fails the task', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  tasks:
    - include_vars: { file: common.yml, name: conf }
    - include_vars: common.yml name=conf2
    - include_vars: file=common.yml name=conf3
    - debug: { msg: "{{ conf.colour }} {{ conf2.size }} {{ conf3.size }} {{ colour is defined }}" }
    - include_vars: list.yml
      ignore_errors: true
      register: notmap
    - debug: { msg: "{{ notmap.failed }} {{ notmap.message is search('must be stored as a dictionary/hash') }}" }
    - include_vars: nowhere.yml
      ignore_errors: true
      register: missing
    - debug: { msg: "found {{ missing.msg is search(\\"Could not find or access 'nowhere.yml'\\") }}" }
`,
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(said(r.stdout), ['blue 3 3 false', 'true true', 'found true']);
  });

  it('a YAML error is located at the file, line and column', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  tasks:
    - include_vars: broken.yml
`,
    );
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stdout, /broken\.yml:\d+:\d+: /);
  });

  it('hash_behaviour merge merges mappings into the current value; replace (the default) replaces', async () => {
    ws.write('more.yml', 'conf: { b: 2, nested: { y: 2 } }\n');
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  vars: { conf: { a: 1, nested: { x: 1 } } }
  tasks:
    - include_vars: { file: more.yml, hash_behaviour: merge }
    - debug: { msg: "{{ conf.a | default('-') }} {{ conf.b }} {{ conf.nested.x | default('-') }} {{ conf.nested.y }}" }
    - include_vars: { file: more.yml }
    - debug: { msg: "{{ conf.a | default('-') }} {{ conf.b }} {{ conf.nested.x | default('-') }} {{ conf.nested.y }}" }
`,
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(said(r.stdout), ['1 2 1 2', '- 2 - 2']);
  });

  it('arguments are checked before the run: file with dir arguments, a bad name', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  tasks:
    - include_vars: { file: common.yml, depth: 1 }
    - include_vars: { file: common.yml, name: "not-a-name" }
`,
    );
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /pb\.yml:5:\d+: .*file cannot be used with depth/);
    assert.match(r.stderr, /pb\.yml:6:\d+: .*name must be a variable name/);
  });
});

describe('include_vars: dir', () => {
  let ws: Ws;
  before(() => {
    ws = workspace({
      'conf/10-a.yml': 'order: a\nfrom_a: 1\n',
      'conf/20-b.yaml': 'order: b\n',
      'conf/notes.txt': 'not vars\n',
      'conf/sub/30-c.json': '{"order": "c", "from_sub": true}\n',
      'conf/skip-me.yml': 'order: skipped\n',
    });
  });
  after(() => ws.cleanup());

  // _traverse_dir_depth: directories in sorted order, depth 1 is the directory itself;
  // _load_files_in_dir: files sorted, files_matching searched, ignore_files matched at the end;
  // _is_valid_file_ext: another extension fails unless ignore_unknown_extensions
  it('loads files in name order, deeper directories after, skipping ignored and unmatched names', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  tasks:
    - include_vars: { dir: conf, ignore_files: ["skip-me.yml", "\\\\.txt"] }
      register: all_of_it
    - debug: { msg: "{{ order }} {{ from_a }} {{ from_sub }} {{ all_of_it.ansible_included_var_files | map('basename') | join(',') }}" }
    - include_vars: { dir: conf, depth: 1, files_matching: "^[0-9]", name: top }
    - debug: { msg: "{{ top.order }} {{ top.from_sub is defined }}" }
    - include_vars: { dir: conf }
      ignore_errors: true
      register: bad_ext
    - debug: { msg: "{{ bad_ext.failed }} {{ bad_ext.message is search('notes.txt does not have a valid extension: yaml, yml, json') }}" }
    - include_vars: { dir: conf, extensions: [yml], ignore_unknown_extensions: true, name: only_yml }
    - debug: { msg: "{{ only_yml.order }} {{ only_yml.from_sub is defined }}" }
    - include_vars: { dir: nothing-here }
      ignore_errors: true
      register: no_dir
    - debug: { msg: "no dir {{ no_dir.message is search('nothing-here directory does not exist') }}" }
`,
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(said(r.stdout), [
      'c 1 true 10-a.yml,20-b.yaml,30-c.json',
      'b false',
      'true true',
      'skipped false',
      'no dir true',
    ]);
  });
});

describe('include_vars in a role, and from a vaulted file', () => {
  let ws: Ws;
  const PASSWORD = 'include-vars-test-password';
  before(() => {
    ws = workspace({
      'roles/r/vars/main.yml': 'from_main: yes\n',
      'roles/r/vars/extra.yml': 'where: role-vars\n',
      'roles/r/vars/more/x.yml': 'more: role-more\n',
      'roles/r/tasks/main.yml':
        '- include_vars: extra.yml\n- include_vars: { dir: more }\n- debug: { msg: "{{ where }} {{ more }}" }\n',
      'vars/extra.yml': 'where: playbook-vars\n',
      'pw.txt': PASSWORD + '\n',
      'secret.yml': encrypt(Buffer.from('db_password: s3cr3t-value\n'), Buffer.from(PASSWORD)),
    });
  });
  after(() => ws.cleanup());

  // _find_needle: the role's vars/ comes before the playbook's; _set_root_dir: dir is under the role's vars/
  it("a role's task finds the role's vars/ first", async () => {
    const r = await play(ws, `\n- hosts: all\n  gather_facts: false\n  roles: [r]\n`);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(said(r.stdout), ['role-vars role-more']);
  });

  // _load_files: the loader decrypts a vaulted file; _ansible_no_log = not show_content hides the result
  it('a vault-encrypted file decrypts; its values stay secret in the output', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  tasks:
    - include_vars: secret.yml
    - assert: { that: "db_password == 's3cr3t-value'" }
`,
      ['--vault-password-file', ws.path('pw.txt')],
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok(!r.stdout.includes('s3cr3t-value'), r.stdout);
    assert.equal(recap(r.stdout).h1.failed, 0);
  });
});
