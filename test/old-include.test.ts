// The old `include:` (issue 15), run as ansible-core 2.14 runs it (deprecated there, removed in
// 2.16). Each case names the Ansible source it follows:
// - lib/ansible/playbook/helpers.py load_list_of_tasks: for action 'include',
//   `is_static = not templar.is_template(t.args['_raw_params']) and t.all_parents_static() and not t.loop`,
//   after display.deprecated('"include" is deprecated, use include_tasks/import_tasks instead. …', "2.16");
//   a static one is expanded at load (an import_tasks), a dynamic one is a task (an include_tasks);
//   in handlers too (HandlerTaskInclude, the static one's tasks listed as handlers).
// - lib/ansible/playbook/task_include.py TaskInclude.get_vars: for 'include' the task's args
//   (`include: x.yml a=1`) are variables of the included tasks, but for tags and when;
//   check_options: 'No file specified for include', 'Invalid options for include: apply'.
// - lib/ansible/playbook/__init__.py Playbook._load_playbook_data: a play-level `include` is a
//   PlaybookInclude (import_playbook), with "'include' for playbook includes. You should use
//   'import_playbook' instead" deprecated.
// - lib/ansible/utils/display.py Display.deprecated keeps one of each message: shown once.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { localInventory, recap, runCli, workspace } from './helpers/cli.js';

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

const TASK_DEPRECATION = '[DEPRECATION WARNING]: "include" is deprecated, use include_tasks/import_tasks instead.';
const count = (text: string, part: string) => text.split(part).length - 1;

describe('the old include: (ansible-core 2.14)', () => {
  let ws: Ws;
  before(() => {
    ws = workspace({
      'inner.yml':
        "- debug: { msg: \"inner {{ a | default('-') }} {{ b | default('-') }} {{ item | default('-') }}\" }\n",
      'two.yml': '- debug: { msg: "two {{ c }}" }\n- include: inner.yml a=nested\n',
      'handlers.yml': '- name: said\n  debug: { msg: "handled {{ h }}" }\n',
      'other.yml': '- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: { msg: "other {{ o }}" }\n',
    });
  });
  after(() => ws.cleanup());

  it('a literal file name: static (no include task counted), k=v args are variables, the warning once', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  vars: { x: ex }
  tasks:
    - include: inner.yml a=1 b="{{ x }}"
    - include: inner.yml tags=t
      when: true
`,
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(said(r.stdout), ['inner 1 ex -', 'inner - - -']);
    // static: the two debug tasks only, no "included:" result
    assert.equal(recap(r.stdout).h1.ok, 2, r.stdout);
    assert.doesNotMatch(r.stdout, /included:/);
    assert.equal(count(r.stdout + r.stderr, TASK_DEPRECATION), 1, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /This feature will be removed in version 2\.16\./);
  });

  it('a templated name, a loop, or inside a dynamic include: dynamic (the include counts ok per file)', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  vars: { which: inner }
  tasks:
    - include: "{{ which }}.yml a=t"
    - include: inner.yml b=l
      loop: [1, 2]
    - include_tasks: two.yml
      vars: { c: 3 }
`,
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(said(r.stdout), ['inner t - -', 'inner - l 1', 'inner - l 2', 'two 3', 'inner nested - -']);
    // 5 debug tasks; includes: 1 (templated) + 2 (loop) + 1 (include_tasks) + 1 (the include inside two.yml)
    assert.equal(recap(r.stdout).h1.ok, 10, r.stdout);
  });

  it('met only in a file loaded at run time: warned once, when loaded', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  vars: { f: two }
  tasks:
    - include_tasks: "{{ f }}.yml"
      vars: { c: 1 }
    - include_tasks: "{{ f }}.yml"
      vars: { c: 2 }
`,
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(said(r.stdout), ['two 1', 'inner nested - -', 'two 2', 'inner nested - -']);
    assert.equal(count(r.stdout + r.stderr, TASK_DEPRECATION), 1, r.stdout + r.stderr);
  });

  it('in handlers: the included tasks are handlers', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  tasks:
    - command: "true"
      notify: said
  handlers:
    - include: handlers.yml h=yes
`,
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(said(r.stdout), ['handled yes']);
  });

  it('at the top of a playbook: import_playbook, with its own deprecation warning', async () => {
    const r = await play(ws, `\n- include: other.yml\n  vars: { o: here }\n`);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(said(r.stdout), ['other here']);
    assert.equal(
      count(
        r.stdout + r.stderr,
        "[DEPRECATION WARNING]: 'include' for playbook includes. You should use 'import_playbook' instead.",
      ),
      1,
    );
  });

  it('bad forms are located errors before anything runs', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  tasks:
    - command: touch ran
    - include: ""
    - include: inner.yml
      args: { apply: { tags: x } }
    - include: inner.yml
      static: yes
    - include: missing.yml
  handlers:
    - include: inner.yml
      loop: [1]
`,
    );
    assert.notEqual(r.code, 0);
    const out = r.stdout + r.stderr;
    assert.match(out, /pb\.yml:6:\d+.*No file specified for include/, out);
    assert.match(out, /pb\.yml:7:\d+.*Invalid options for include: apply/, out);
    assert.match(out, /pb\.yml:10:\d+.*static/, out);
    assert.match(out, /pb\.yml:11:\d+.*not found/, out);
    // dynamic (a loop) in handlers: phx-play runs only tasks as handlers
    assert.match(out, /pb\.yml:13:\d+.*cannot be a handler/, out);
    assert.doesNotMatch(out, /PLAY RECAP/);
  });
});
