// Where phx-play follows ansible-playbook's semantics on a point that once differed (issue 15 item 8).
// Each case names the Ansible source that decides it; the runs use the real CLI on the local connection.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { recap, runCli, runLocalPlay, workspace } from './helpers/cli.js';

type Ws = ReturnType<typeof workspace>;

const play = (ws: Ws, yaml: string, hosts = ['h1', 'h2'], args: string[] = []) => runLocalPlay(ws, yaml, hosts, args);

/** the msg lines debug printed, in order */
function said(stdout: string): string[] {
  return [...stdout.matchAll(/"msg": "([^"]*)"/g)].map((m) => m[1]);
}

describe('semantics: handlers', () => {
  let ws: Ws;
  before(() => (ws = workspace()));
  after(() => ws.cleanup());

  // lib/ansible/plugins/strategy/__init__.py search_handlers_by_notification: a notify reaches
  // every handler whose name or listen matches, not only the first.
  it('every handler listening to a topic runs', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  tasks:
    - command: "true"
      notify: topic
  handlers:
    - { name: first, debug: { msg: "first {{ inventory_hostname }}" }, listen: topic }
    - { name: second, debug: { msg: "second {{ inventory_hostname }}" }, listen: topic }
`,
      ['h1'],
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(said(r.stdout), ['first h1', 'second h1']);
  });

  // strategy/__init__.py _process_pending_results: the notifications of a handler's result are
  // taken (Handler.notify_host is a no-op for a host already notified), then handler.remove_host.
  it('a handler notifying itself does not rerun', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  tasks:
    - command: "true"
      notify: again
  handlers:
    - name: again
      command: "true"
      notify: again
`,
      ['h1'],
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.stdout.match(/RUNNING HANDLER \[again\]/g)?.length, 1, r.stdout);
    assert.equal(recap(r.stdout).h1.changed, 2);
  });

  // strategy/linear.py run: any_errors_fatal checks every result, handlers' included.
  it('a failing handler under any_errors_fatal ends the play for every host', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  any_errors_fatal: true
  tasks:
    - command: "true"
      notify: bad
    - meta: flush_handlers
    - debug: { msg: "after {{ inventory_hostname }}" }
  handlers:
    - name: bad
      fail: { msg: handler failed }
      when: inventory_hostname == 'h1'
`,
    );
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.deepEqual(said(r.stdout), [], r.stdout);
    assert.equal(recap(r.stdout).h1.failed, 1);
    assert.equal(recap(r.stdout).h2.failed, 0);
  });
});

describe('semantics: blocks and failures', () => {
  let ws: Ws;
  before(() => (ws = workspace()));
  after(() => ws.cleanup());

  // strategy/linear.py run: under any_errors_fatal a host whose state is RESCUE or ALWAYS is not
  // counted failed (PlayIterator.is_failed is false while a rescue is due), so the rescue runs.
  it('any_errors_fatal still runs rescue and always; a rescued host does not end the play', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  any_errors_fatal: true
  tasks:
    - block:
        - name: breaks
          fail: { msg: boom }
          when: inventory_hostname == 'h1'
      rescue:
        - debug: { msg: "rescue {{ ansible_failed_task.name }} {{ ansible_failed_result.msg }}" }
      always:
        - debug: { msg: "always {{ inventory_hostname }}" }
    - debug: { msg: "after {{ inventory_hostname }}" }
`,
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(said(r.stdout), ['rescue breaks boom', 'always h1', 'always h2', 'after h1', 'after h2']);
    assert.equal(recap(r.stdout).h1.rescued, 1);
    assert.equal(recap(r.stdout).h1.failed, 0);
  });

  it('any_errors_fatal: a rescue that fails too ends the play after always', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  any_errors_fatal: true
  tasks:
    - block:
        - fail: { msg: boom }
          when: inventory_hostname == 'h1'
      rescue:
        - fail: { msg: again }
      always:
        - debug: { msg: "always {{ inventory_hostname }}" }
    - debug: { msg: "after {{ inventory_hostname }}" }
`,
    );
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.deepEqual(said(r.stdout), ['always h1', 'always h2']);
  });

  // strategy/__init__.py _process_pending_results: 'rescued' is counted on entering the rescue.
  it('recap counts rescued when the rescue fails as well', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  tasks:
    - block:
        - fail: { msg: a }
      rescue:
        - fail: { msg: b }
`,
      ['h1'],
    );
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.equal(recap(r.stdout).h1.failed, 1);
    assert.equal(recap(r.stdout).h1.rescued, 1);
  });
});

describe('semantics: loops and the command line', () => {
  let ws: Ws;
  before(() => (ws = workspace()));
  after(() => ws.cleanup());

  // lib/ansible/plugins/lookup/items.py: the terms are listified, so one value is one item.
  it('with_items of one value that is not a template loops over that one value', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  tasks:
    - debug: { msg: "item {{ item }}" }
      with_items: single
`,
      ['h1'],
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(said(r.stdout), ['item single']);
  });

  // lib/ansible/executor/task_executor.py TaskExecutor.run: items == [] gives
  // dict(changed=False, skipped=True, skipped_reason='No items in the list', results=[]).
  it('a loop over no items is skipped, registered and counted as such', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  tasks:
    - debug: { msg: "item {{ item }}" }
      loop: "{{ [] }}"
      register: nothing
    - debug: { msg: "{{ 'skipped' if nothing.skipped else 'ran' }} {{ nothing.skipped_reason }} {{ nothing.results | length }}" }
`,
      ['h1'],
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(said(r.stdout), ['skipped No items in the list 0']);
    assert.match(r.stdout, /skipping: \[h1\]/);
    assert.equal(recap(r.stdout).h1.skipped, 1);
    assert.equal(recap(r.stdout).h1.ok, 1);
  });

  // ansible-playbook -c/--connection: the connection of hosts that do not set one themselves.
  it('-c local runs hosts that set no ansible_connection on the controller', async () => {
    ws.write('inv-plain.ini', '[all]\nplain1\n');
    ws.write(
      'pb-c.yml',
      `
- hosts: all
  gather_facts: false
  tasks:
    - command: touch ${ws.path('by-c')}
`,
    );
    const r = await runCli(['-i', ws.path('inv-plain.ini'), ws.path('pb-c.yml'), '-c', 'local'], { cwd: ws.dir });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(recap(r.stdout).plain1.changed, 1);
    const bad = await runCli(['-i', ws.path('inv-plain.ini'), ws.path('pb-c.yml'), '-c', 'telnet'], { cwd: ws.dir });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stdout + bad.stderr, /"telnet" is not supported/);
  });
});

describe('semantics: variables', () => {
  let ws: Ws;
  before(() => (ws = workspace()));
  after(() => ws.cleanup());

  // Ansible templates vars lazily: x: "{{ nope }}" makes x an AnsibleUndefined, so `x is defined`
  // is false and `x | default(...)` applies; only using x itself is the error.
  it('is defined is false for a var whose template is undefined; using it is still an error', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  vars:
    bad: "{{ nope }}"
    nested: "{{ bad }}"
    fine: "{{ 1 + 1 }}"
  tasks:
    - debug: { msg: "{{ bad is defined }} {{ nested is undefined }} {{ bad | default('dflt') }} {{ fine is defined }}" }
    - debug: { msg: "{{ bad }}" }
`,
      ['h1'],
    );
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.deepEqual(said(r.stdout), ['false true dflt true']);
    assert.match(r.stdout, /undefined variable 'nope' \(in the value of 'bad'\)/);
  });
});

describe('semantics: results', () => {
  let ws: Ws;
  before(() => (ws = workspace()));
  after(() => ws.cleanup());

  // executor/task_executor.py _evaluate_failed_when_result: the result being judged is the one
  // registered; a condition that cannot be evaluated fails the task without dropping its output.
  it('a failed_when that errors fails the task and keeps the registered result', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  tasks:
    - command: echo kept
      register: out
      failed_when: out.nosuch.deeper
      ignore_errors: true
    - debug: { msg: "{{ out.stdout }} {{ out.failed }}" }
`,
      ['h1'],
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(said(r.stdout), ['kept true']);
    assert.match(r.stdout, /pb\.yml:\d+:\d+: undefined variable 'out\.nosuch'/);
    assert.equal(recap(r.stdout).h1.ignored, 1);
  });
});

describe('semantics: set_fact key=value', () => {
  let ws: Ws;
  before(() => (ws = workspace()));
  after(() => ws.cleanup());

  // plugins/action/set_fact.py: cacheable is read with boolean(); keys are templated
  // (parsing/splitter.py parse_kv splits at the first '=' outside quotes and {{ }}).
  it('takes cacheable=no and templated keys, and checks a rendered name', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  vars: { k: dyn }
  tasks:
    - set_fact: a=1 cacheable=no
    - set_fact: "{{ k }}_port=80 plain=5"
    - set_fact: { "{{ k }}_map": 3 }
    - debug: { msg: "{{ a }} {{ dyn_port }} {{ plain }} {{ dyn_map }} {{ cacheable is defined }}" }
    - set_fact: { "{{ k }} bad": 3 }
`,
      ['h1'],
    );
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.deepEqual(said(r.stdout), ['1 80 5 3 false']);
    assert.match(r.stdout, /The variable name 'dyn bad' is not valid/);
  });
});

describe('semantics: include_tasks', () => {
  let ws: Ws;
  before(() => (ws = workspace()));
  after(() => ws.cleanup());

  // parse_kv gives { file: ... } for `file=x.yml`; strategy/__init__.py counts an include's
  // result as ok on the hosts that include, skipped where its when is false.
  it('takes file=x.yml and counts ok where it includes, skipped where not', async () => {
    ws.write('inc/x.yml', '- debug: { msg: "in {{ inventory_hostname }}" }\n');
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  tasks:
    - include_tasks: file=inc/x.yml
      when: inventory_hostname == 'h1'
`,
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(said(r.stdout), ['in h1']);
    assert.deepEqual([recap(r.stdout).h1.ok, recap(r.stdout).h1.skipped], [2, 0]);
    assert.deepEqual([recap(r.stdout).h2.ok, recap(r.stdout).h2.skipped], [0, 1]);
  });

  // strategy/__init__.py: _load_included_file counts ok once per included file, and each loop item
  // is its own IncludedFile; include_role's blocks are loaded without that count (ansible-core 2.14:
  // include_role with a two-item loop over a one-task role gives ok=2, include_tasks the same gives 4; this
  // playbook gives ok=7 skipped=1)
  it('counts ok once per included file, per loop item; include_role itself counts nothing', async () => {
    ws.write('inc/y.yml', '- debug: { msg: "y {{ item }}" }\n');
    ws.write('roles/r/tasks/main.yml', '- debug: { msg: "r {{ item }}" }\n');
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  tasks:
    - include_tasks: inc/y.yml
      loop: [1, 2, 3]
    - include_role: { name: r }
      loop: [4]
    - include_role: { name: r }
      when: false
`,
      ['h1'],
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(said(r.stdout), ['y 1', 'y 2', 'y 3', 'r 4']);
    // 3 included files + 3 debug, 1 debug of the role: 7 (counting each include once would give 6)
    assert.deepEqual([recap(r.stdout).h1.ok, recap(r.stdout).h1.skipped], [7, 1]);
  });
});

describe('semantics: loop_control.extended', () => {
  let ws: Ws;
  before(() => (ws = workspace()));
  after(() => ws.cleanup());

  // executor/task_executor.py _run_loop: extended adds allitems, previtem (not on the first),
  // nextitem (not on the last) to ansible_loop.
  it('adds allitems, previtem and nextitem to ansible_loop', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  tasks:
    - debug: { msg: "{{ ansible_loop.index }} {{ ansible_loop.previtem | default('-') }} {{ ansible_loop.nextitem | default('-') }} {{ ansible_loop.allitems | join(',') }}" }
      loop: [a, b, c]
      loop_control: { extended: true }
`,
      ['h1'],
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(said(r.stdout), ['1 - b a,b,c', '2 a c a,b,c', '3 b - a,b,c']);
  });
});

describe('semantics: with_nested and with_together', () => {
  let ws: Ws;
  before(() => (ws = workspace()));
  after(() => ws.cleanup());

  // plugins/lookup/nested.py (every combination, first list outermost) and together.py
  // (side by side, the shorter padded with None); the lists may be templates.
  it('combine their lists, templated ones included', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  vars: { xs: [1, 2] }
  tasks:
    - debug: { msg: "n {{ item | join('-') }}" }
      with_nested: [[a, b], "{{ xs }}"]
    - debug: { msg: "t {{ item[0] }} {{ item[1] is none }}" }
      with_together: [[a, b, c], "{{ xs }}"]
`,
      ['h1'],
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(said(r.stdout), ['n a-1', 'n a-2', 'n b-1', 'n b-2', 't a false', 't b false', 't c true']);
  });
});

describe('semantics: with_flattened and facts set in a loop', () => {
  let ws: Ws;
  before(() => (ws = workspace()));
  after(() => ws.cleanup());

  // community.general plugins/lookup/flattened.py _do_flatten (all levels; 'null' ends its list);
  // executor/task_executor.py _execute updates the loop's variables with each item's ansible_facts,
  // and the strategy applies every result item's ansible_facts (set_fact accumulating over a loop).
  it('flattens all levels; set_fact accumulates over items, skipped ones too', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  vars: { xs: [a, [b, [c]]] }
  tasks:
    - debug: { msg: "f {{ item }}" }
      with_community.general.flattened: ["{{ xs }}", [[d]], 'null', e]
    - set_fact: { acc: "{{ acc | default([]) + [item] }}" }
      with_flattened: ["{{ xs }}"]
      when: item != 'b'
    - debug: { msg: "acc {{ acc | join(',') }}" }
`,
      ['h1'],
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(said(r.stdout), ['f a', 'f b', 'f c', 'f d', 'acc a,c']);
  });

  // a module's ansible_facts (getent.py: getent_<database>) are host facts: a variable and under
  // ansible_facts (task_executor.py namespace_facts + clean_facts), below play vars in precedence
  it("getent's facts: a variable, under ansible_facts, and play vars win", async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  tasks:
    - getent: { database: passwd, key: root }
    - debug: { msg: "home {{ getent_passwd.root[4] }} {{ ansible_facts.getent_passwd.root[0] | length }}" }
- hosts: all
  gather_facts: false
  vars: { getent_passwd: mine }
  tasks:
    - getent: { database: passwd, key: root }
    - debug: { msg: "play {{ getent_passwd }}" }
`,
      ['h1'],
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(said(r.stdout), ['home /root 1', 'play mine']);
  });
});

describe('semantics: register on include_tasks', () => {
  let ws: Ws;
  before(() => (ws = workspace()));
  after(() => ws.cleanup());

  // executor/task_executor.py _execute_internal returns dict(include=include_file, include_args=...)
  // for an include (run() adds changed=False); a false when gives the skipped result; a loop the
  // results of its items. The strategy registers it before the included tasks run.
  it('registers the include result, skipped and looped ones too', async () => {
    ws.write('inc/x.yml', '- debug: { msg: "in {{ r1.include }}" }\n');
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  tasks:
    - include_tasks: inc/x.yml
      register: r1
    - include_tasks: inc/x.yml
      register: r2
      when: false
    - include_tasks: inc/x.yml
      register: r3
      loop: [a, b]
      when: item == 'b'
    - debug: { msg: "{{ r1.changed }} {{ r1.include_args }} {{ r2.skipped }} {{ r3.results[0].skipped }} {{ r3.results[1].include }} {{ r3.results[1].item }}" }
`,
      ['h1'],
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(said(r.stdout), ['in inc/x.yml', 'in inc/x.yml', 'false {} true true inc/x.yml b']);
  });
});

describe('semantics: with_sequence', () => {
  let ws: Ws;
  before(() => (ws = workspace()));
  after(() => ws.cleanup());

  // plugins/lookup/sequence.py: parse_simple_args ([start-]end[/stride][:format]) else parse_kv_args;
  // sanity_check turns count into end; generate_sequence yields `format % i` as strings.
  it('takes the k=v and short forms, count, stride, format and templates', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  vars: { n: 3 }
  tasks:
    - debug: { msg: "a {{ item }} {{ item is string }}" }
      with_sequence: start=1 end={{ n }}
    - debug: { msg: "b {{ item }}" }
      with_sequence: 4-8/2
    - debug: { msg: "c {{ item }}" }
      with_sequence: start=0x0f count=2 format=h%03x
    - debug: { msg: "d {{ item }}" }
      with_sequence: "3:host%02d"
    - debug: { msg: "e {{ item }}" }
      with_sequence: start=5 end=1 stride=-2
`,
      ['h1'],
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(said(r.stdout), [
      'a 1 true',
      'a 2 true',
      'a 3 true',
      'b 4',
      'b 6',
      'b 8',
      'c h00f',
      'c h010',
      'd host01',
      'd host02',
      'd host03',
      'e 5',
      'e 3',
      'e 1',
    ]);
  });

  // sequence.py sanity_check: the errors Ansible raises, here at load with the location.
  it('reports a bad sequence at its line before anything runs', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  tasks:
    - debug: { msg: "{{ item }}" }
      with_sequence: start=5 end=1
    - debug: { msg: "{{ item }}" }
      with_sequence: start=1 end=2 count=2
`,
      ['h1'],
    );
    assert.notEqual(r.code, 0);
    assert.match(r.stderr + r.stdout, /pb\.yml:6:\d+.*to count backwards make stride negative/);
    assert.match(r.stderr + r.stdout, /pb\.yml:8:\d+.*can't specify both count and end/);
    assert.doesNotMatch(r.stdout, /TASK/);
  });
});

describe('semantics: action and local_action', () => {
  let ws: Ws;
  before(() => (ws = workspace()));
  after(() => ws.cleanup());

  // parsing/mod_args.py ModArgsParser.parse: `action:` as a string (_split_module_string: the first
  // word is the module) or a mapping with `module:`; `local_action:` the same with delegate_to localhost.
  it('runs the module named in the value, local_action on the controller', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  tasks:
    - action: command echo hi {{ inventory_hostname }}
      register: a
    - action:
        module: debug
        msg: "map {{ a.stdout }}"
    - local_action: command echo local
      register: b
    - debug: { msg: "{{ b.stdout }}" }
`,
      ['h1'],
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(said(r.stdout), ['map hi h1', 'local']);
    assert.match(r.stdout, /changed: \[h1 -> localhost\]/);
  });

  // mod_args.py: "conflicting action statements"; an unknown module is a located error at load.
  it('reports an unknown module and a second module key at their lines', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  tasks:
    - action: comand echo hi
    - action: debug msg=x
      copy: { src: a, dest: b }
`,
      ['h1'],
    );
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /pb\.yml:5:\d+: unknown module 'comand' in 'action'; did you mean 'command'\?/);
    assert.match(r.stderr, /pb\.yml:7:\d+: conflicting action statements: 'action' and 'copy'/);
  });
});

describe('semantics: lookup file search path', () => {
  let ws: Ws;
  before(() => (ws = workspace()));
  after(() => ws.cleanup());

  // playbook/task.py Task.get_search_path (the role's path first) and parsing/dataloader.py
  // DataLoader.path_dwim_relative_stack (each path's files/, then the path; the playbook's dir last).
  it("a role's task reads the role's files/, the role, then the playbook's files/ and dir", async () => {
    ws.write('roles/r/files/a.txt', 'role-files-a\n');
    ws.write('roles/r/b.txt', 'role-dir-b\n');
    ws.write('files/a.txt', 'pb-files-a\n');
    ws.write('files/c.txt', 'pb-files-c\n');
    ws.write('d.txt', 'pb-dir-d\n');
    ws.write(
      'roles/r/tasks/main.yml',
      `- debug: { msg: "{{ lookup('file', 'a.txt') }} {{ lookup('file', 'b.txt') }} {{ lookup('file', 'c.txt') }} {{ lookup('file', 'd.txt') }}" }
  when: lookup('file', 'a.txt') == 'role-files-a'
`,
    );
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  roles: [r]
  tasks:
    - debug: { msg: "{{ lookup('file', 'a.txt') }} {{ lookup('file', 'd.txt') }}" }
`,
      ['h1'],
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(said(r.stdout), ['role-files-a role-dir-b pb-files-c pb-dir-d', 'pb-files-a pb-dir-d']);
  });
});

describe('semantics: gather_facts', () => {
  let ws: Ws;
  before(() => (ws = workspace()));
  after(() => ws.cleanup());

  // playbook/play.py: gather_facts unset means gather; executor/play_iterator.py with Ansible's
  // default `gathering = implicit` gathers in every play that does not say false (the recap counts each).
  it('gathers when the play does not say, in every such play; false costs nothing', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  tasks:
    - debug: { msg: "one {{ ansible_facts.nodename is defined }}" }
- hosts: all
  tasks:
    - debug: { msg: "two {{ ansible_nodename is defined }}" }
- hosts: all
  gather_subset: [min]
  tasks:
    - debug: { msg: "three" }
- hosts: all
  gather_facts: false
  tasks:
    - debug: { msg: "four" }
`,
      ['h1'],
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(said(r.stdout), ['one true', 'two true', 'three', 'four']);
    // every play but the last gathers
    assert.equal(r.stdout.match(/TASK \[Gathering Facts\]/g)?.length, 3, r.stdout);
    assert.equal(recap(r.stdout).h1.ok, 7);
  });
});

describe('semantics: text around one expression, and checks only a run can make', () => {
  let ws: Ws;
  before(() => (ws = workspace()));
  after(() => ws.cleanup());

  // template/__init__.py (Templar.template): only a template that is exactly one expression keeps
  // its type; "{{ x }}\n" is text, and a `|` block keeps its final newline (YAML), so both write x and
  // a newline. Module arguments are checked by the module when the task runs (executor/module_common.py,
  // AnsibleModule._check_arguments): a templated src that renders empty fails there, at the task; a
  // task that is skipped is never checked.
  it('"{{ x }}\\n" and a | block write x and a newline; an empty rendered src fails when reached, located', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  vars: { x: abc, n: 5, empty: '' }
  tasks:
    - copy: { content: "{{ x }}\\n", dest: "${ws.path('one.txt')}" }
    - copy:
        content: |
          {{ x }}
        dest: "${ws.path('block.txt')}"
    - copy: { content: "{{ n }}\\n", dest: "${ws.path('number.txt')}" }
    - copy: { src: "{{ empty }}", dest: "${ws.path('never')}" }
      when: false
    - copy: { src: "{{ empty }}", dest: "${ws.path('never')}" }
`,
      ['h1'],
    );
    assert.equal(r.code, 2, r.stdout + r.stderr);
    const { readFileSync } = await import('node:fs');
    assert.equal(readFileSync(ws.path('one.txt'), 'utf8'), 'abc\n');
    assert.equal(readFileSync(ws.path('block.txt'), 'utf8'), 'abc\n');
    assert.equal(readFileSync(ws.path('number.txt'), 'utf8'), '5\n');
    assert.match(r.stdout, /pb\.yml:14:7: invalid arguments for copy: src: must not be empty/);
    assert.deepEqual([recap(r.stdout).h1.skipped, recap(r.stdout).h1.failed], [1, 1]);
  });
});

describe('semantics: lookup template', () => {
  let ws: Ws;
  before(() => (ws = workspace()));
  after(() => ws.cleanup());

  // plugins/lookup/template.py: find_file_in_search_path(variables, 'templates', term), rendered with
  // the task's variables, its trailing newline kept; in a role the role's templates/ come first.
  it("renders from the role's templates/, then the playbook's; a problem names the template's line", async () => {
    ws.write('roles/r/templates/t.j2', '{% if true %}\n{{ who }} in role\n{% endif %}\n');
    ws.write('templates/t.j2', 'shadowed\n');
    ws.write('templates/p.j2', '{{ who }} in play\n');
    ws.write('templates/bad.j2', 'line one\n{{ nope }}\n');
    ws.write(
      'roles/r/tasks/main.yml',
      `- debug: { msg: "{{ lookup('template', 't.j2') | trim }}|{{ lookup('template', 'p.j2') | length }}" }\n`,
    );
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  vars: { who: h }
  roles: [r]
  tasks:
    - debug: { msg: "{{ lookup('template', 't.j2') | trim }}" }
    - debug: { msg: "{{ lookup('template', 'bad.j2') }}" }
`,
      ['h1'],
    );
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.deepEqual(said(r.stdout), ['h in role|10', 'shadowed']);
    assert.match(r.stdout, /lookup template: \S*templates\/bad\.j2:2:\d+: undefined variable 'nope'/);
  });
});

describe('semantics: with_items over a mapping', () => {
  let ws: Ws;
  before(() => (ws = workspace()));
  after(() => ws.cleanup());

  // plugins/lookup/items.py returns LookupBase._flatten(terms), which iterates the terms: a
  // mapping gives its keys (the corpus item vkill-environment-variables loops so over env vars);
  // `loop:` still wants a list.
  it('loops over its keys', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  vars: { env: { FOO: 1, BAR: 2 } }
  tasks:
    - debug: { msg: "k {{ item }}={{ env[item] }}" }
      with_items: "{{ env }}"
`,
      ['h1'],
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(said(r.stdout), ['k FOO=1', 'k BAR=2']);
    const l = await play(
      ws,
      `- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: { msg: x }\n      loop: { a: 1 }\n`,
      ['h1'],
    );
    assert.notEqual(l.code, 0);
    assert.match(l.stdout + l.stderr, /loop/);
  });
});
