// The executor through the real CLI on the local connection: loops, conditions,
// register, blocks, handlers, serial, failure policies, tags, check mode.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { localInventory, recap, runCli, workspace } from './helpers/cli.js';

type Ws = ReturnType<typeof workspace>;

async function play(ws: Ws, yaml: string, args: string[] = [], hosts = ['h1']) {
  ws.write('inv.ini', localInventory(hosts));
  ws.write('pb.yml', yaml);
  return runCli(['-i', ws.path('inv.ini'), ws.path('pb.yml'), ...args], { cwd: ws.dir });
}

describe('engine: a run on the local connection', () => {
  let ws: Ws;
  before(() => (ws = workspace()));
  after(() => ws.cleanup());

  it('runs tasks in order with loops, when, register and templated args', async () => {
    const d = ws.path('loop');
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  vars:
    names: [a, b, c]
    base: ${d}
  tasks:
    - name: make dirs
      file: { path: "{{ base }}/{{ item }}", state: directory }
      loop: "{{ names }}"
    - name: only b
      command: touch {{ base }}/{{ item }}/marker
      loop: "{{ names }}"
      when: item == 'b'
    - command: ls {{ base }}
      register: listing
      changed_when: false
    - assert:
        that:
          - listing.stdout_lines | length == 3
          - "'a' in listing.stdout_lines"
`,
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(readdirSync(d).sort(), ['a', 'b', 'c']);
    assert.ok(existsSync(`${d}/b/marker`));
    assert.ok(!existsSync(`${d}/a/marker`));
    assert.deepEqual(recap(r.stdout).h1, {
      ok: 4,
      changed: 2,
      unreachable: 0,
      failed: 0,
      skipped: 0,
      rescued: 0,
      ignored: 0,
    });
  });

  it('keeps the type of a single-expression template (no int-to-string)', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  vars: { n: 3, flag: false, list: [1, 2] }
  tasks:
    - set_fact: { copy_n: "{{ n }}", copy_flag: "{{ flag }}", copy_list: "{{ list }}", text: "n={{ n }}" }
    - assert:
        that:
          - copy_n == 3
          - copy_n is number
          - not copy_flag
          - copy_list | length == 2
          - text == 'n=3'
`,
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  it('failed_when, changed_when, ignore_errors and the failed exit code', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  tasks:
    - command: sh -c 'echo hello; exit 3'
      register: out
      failed_when: out.rc != 3
      changed_when: "'hello' in out.stdout"
    - command: "false"
      ignore_errors: true
    - command: "false"
    - command: echo never reached
`,
    );
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stdout, /fatal: \[h1\]: FAILED!/);
    assert.match(r.stdout, /\.\.\.ignoring/);
    assert.doesNotMatch(r.stdout, /never reached/);
    // the ignored `false` counts as ok, changed and ignored, as ansible-playbook's recap does
    assert.deepEqual(recap(r.stdout).h1, {
      ok: 2,
      changed: 2,
      unreachable: 0,
      failed: 1,
      skipped: 0,
      rescued: 0,
      ignored: 1,
    });
  });

  it("a templated boolean keyword reads like Ansible's boolean(): t/yes/1 are true, no is false", async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  vars: { short: t, word: 'Yes', one: 1, word_no: 'no' }
  tasks:
    - command: "false"
      ignore_errors: "{{ short }}"
    - command: "false"
      ignore_errors: "{{ word }}"
    - command: "false"
      ignore_errors: "{{ one }}"
    - command: "false"
      ignore_errors: "{{ word_no }}"
    - command: echo never reached
`,
    );
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout, /never reached/);
    assert.equal(recap(r.stdout).h1.ignored, 3, r.stdout);
    assert.equal(recap(r.stdout).h1.failed, 1, r.stdout);
    // strategy/__init__.py _process_pending_results: an ignored failure is also ok, and changed when the
    // failed result says so (command's does: command.py sets changed before fail_json)
    assert.equal(recap(r.stdout).h1.ok, 3, r.stdout);
    assert.equal(recap(r.stdout).h1.changed, 3, r.stdout);
  });

  it('block / rescue / always', async () => {
    const d = ws.path('blk');
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  tasks:
    - file: { path: ${d}, state: directory }
    - block:
        - command: "false"
        - command: touch ${d}/not-reached
      rescue:
        - command: touch ${d}/rescued
      always:
        - command: touch ${d}/always
    - command: touch ${d}/after
`,
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(readdirSync(d).sort(), ['after', 'always', 'rescued']);
    const c = recap(r.stdout).h1;
    assert.equal(c.rescued, 1);
    assert.equal(c.failed, 0);
  });

  it('handlers run once at the end, in definition order, only where notified; listen topics; flush_handlers', async () => {
    const log = ws.path('handlers.log');
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  tasks:
    - command: "true"
      notify: [second, first]
    - command: "true"
      notify: second
    - command: "true"
      changed_when: false
      notify: never
    - command: sh -c 'echo task >> ${log}'
    - meta: flush_handlers
    - command: sh -c 'echo after-flush >> ${log}'
      notify: topic
  handlers:
    - name: first
      command: sh -c 'echo first >> ${log}'
    - name: second
      command: sh -c 'echo second >> ${log}'
    - name: never
      command: sh -c 'echo never >> ${log}'
    - name: by topic
      command: sh -c 'echo topic >> ${log}'
      listen: topic
`,
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(readFileSync(log, 'utf8').trim().split('\n'), ['task', 'first', 'second', 'after-flush', 'topic']);
  });

  it('a failed host leaves the play while the others go on; force_handlers', async () => {
    const d = ws.path('multi');
    const yaml = `
- hosts: all
  gather_facts: false
  tasks:
    - file: { path: ${d}, state: directory }
    - command: touch ${d}/{{ inventory_hostname }}-1
      notify: h
    - command: "false"
      when: inventory_hostname == 'h2'
    - command: touch ${d}/{{ inventory_hostname }}-2
  handlers:
    - name: h
      command: touch ${d}/{{ inventory_hostname }}-handler
`;
    const r = await play(ws, yaml, [], ['h1', 'h2', 'h3']);
    assert.equal(r.code, 2);
    const files = readdirSync(d).sort();
    assert.deepEqual(files, ['h1-1', 'h1-2', 'h1-handler', 'h2-1', 'h3-1', 'h3-2', 'h3-handler']);
    const r2 = await play(
      ws,
      yaml.replace(`${d}`, `${d}-f`).replaceAll(`${d}/`, `${d}-f/`),
      ['--force-handlers'],
      ['h1', 'h2', 'h3'],
    );
    assert.equal(r2.code, 2);
    assert.ok(existsSync(`${d}-f/h2-handler`), r2.stdout);
  });

  it('any_errors_fatal ends the play for every host', async () => {
    const d = ws.path('aef');
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  any_errors_fatal: true
  tasks:
    - file: { path: ${d}, state: directory }
    - command: "false"
      when: inventory_hostname == 'h1'
    - command: touch ${d}/{{ inventory_hostname }}
`,
      [],
      ['h1', 'h2'],
    );
    assert.equal(r.code, 2);
    assert.deepEqual(readdirSync(d), []);
  });

  it('max_fail_percentage counts failures of the batch', async () => {
    const d = ws.path('mfp');
    const yaml = (pct: number) => `
- hosts: all
  gather_facts: false
  max_fail_percentage: ${pct}
  tasks:
    - file: { path: ${d}${pct}, state: directory }
    - command: "false"
      when: inventory_hostname == 'h1'
    - command: touch ${d}${pct}/{{ inventory_hostname }}
`;
    const low = await play(ws, yaml(20), [], ['h1', 'h2', 'h3', 'h4']);
    assert.deepEqual(readdirSync(`${d}20`), []);
    assert.equal(low.code, 2);
    await play(ws, yaml(30), [], ['h1', 'h2', 'h3', 'h4']);
    assert.deepEqual(readdirSync(`${d}30`).sort(), ['h2', 'h3', 'h4']);
  });

  it('serial runs the play batch by batch', async () => {
    const log = ws.path('serial.log');
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  serial: [1, 2]
  tasks:
    - command: sh -c 'echo "a {{ inventory_hostname }}" >> ${log}'
    - command: sh -c 'echo "b {{ inventory_hostname }}" >> ${log}'
`,
      ['-f', '1'],
      ['h1', 'h2', 'h3'],
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(readFileSync(log, 'utf8').trim().split('\n'), ['a h1', 'b h1', 'a h2', 'a h3', 'b h2', 'b h3']);
  });

  it('tags: -t, --skip-tags, always and never', async () => {
    const log = ws.path('tags.log');
    const yaml = `
- hosts: all
  gather_facts: false
  tasks:
    - { command: "sh -c 'echo one >> ${log}'", tags: [one] }
    - { command: "sh -c 'echo two >> ${log}'", tags: two }
    - { command: "sh -c 'echo always >> ${log}'", tags: [always] }
    - { command: "sh -c 'echo never >> ${log}'", tags: [never, debug] }
`;
    const lines = async (args: string[]) => {
      ws.write('tags.log', '');
      await play(ws, yaml, args);
      return readFileSync(log, 'utf8').trim().split('\n').filter(Boolean);
    };
    assert.deepEqual(await lines([]), ['one', 'two', 'always']);
    assert.deepEqual(await lines(['-t', 'two']), ['two', 'always']);
    assert.deepEqual(await lines(['--skip-tags', 'one,always']), ['two']);
    assert.deepEqual(await lines(['-t', 'debug']), ['always', 'never']);
  });

  it('--check changes nothing, predicts changes, and --detailed-exitcode says so', async () => {
    const d = ws.path('check');
    const yaml = `
- hosts: all
  gather_facts: false
  tasks:
    - file: { path: ${d}, state: directory, mode: "0750" }
    - copy: { dest: ${d}/f.txt, content: "hello\\n" }
`;
    const c = await play(ws, yaml, ['--check', '--detailed-exitcode', '--diff']);
    assert.equal(c.code, 3, c.stdout + c.stderr);
    assert.ok(!existsSync(d));
    assert.equal(recap(c.stdout).h1.changed, 2);
    assert.match(c.stdout, /\+hello/);
    const real = await play(ws, yaml);
    assert.equal(real.code, 0, real.stdout + real.stderr);
    assert.equal(recap(real.stdout).h1.changed, 2);
    const again = await play(ws, yaml, ['--check', '--detailed-exitcode']);
    assert.equal(again.code, 0, again.stdout);
    assert.equal(recap(again.stdout).h1.changed, 0);
  });

  it('retries until a condition holds', async () => {
    const f = ws.path('counter');
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  tasks:
    - shell: echo x >> ${f}; wc -l < ${f}
      register: c
      until: c.stdout | int >= 3
      retries: 5
      delay: 0
    - assert: { that: "c.attempts == 3" }
`,
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  it('include_tasks with a loop, import_tasks, vars_files and extra vars precedence', async () => {
    ws.write('inc/item.yml', `- command: touch {{ dir }}/{{ item }}-{{ suffix }}\n`);
    ws.write('inc/static.yml', `- command: touch {{ dir }}/static\n`);
    ws.write('vars/main.yml', `suffix: fromfile\n`);
    const d = ws.path('inc-out');
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  vars: { dir: ${d}, suffix: fromplay }
  vars_files: [vars/main.yml]
  tasks:
    - file: { path: "{{ dir }}", state: directory }
    - include_tasks: inc/item.yml
      loop: [x, y]
    - import_tasks: inc/static.yml
`,
      ['-e', 'dir=' + d],
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(readdirSync(d).sort(), ['static', 'x-fromfile', 'y-fromfile']);
  });

  it('include_tasks apply: its keywords and notify reach the included tasks', async () => {
    ws.write('inc/notify.yml', `- command: "true"\n`);
    const log = ws.path('apply.log');
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  vars: { name: notify }
  tasks:
    - include_tasks:
        file: "inc/{{ name }}.yml"
        apply:
          notify: note
          tags: [applied]
  handlers:
    - name: note
      command: sh -c 'echo handled >> ${log}'
`,
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(readFileSync(log, 'utf8'), 'handled\n');
  });

  it('--start-at-task, run_once and meta: end_host', async () => {
    const d = ws.path('sat');
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  tasks:
    - command: touch ${d}-first
    - name: begin here
      file: { path: ${d}, state: directory }
    - command: touch ${d}/once-{{ inventory_hostname }}
      run_once: true
    - meta: end_host
      when: inventory_hostname == 'h2'
    - command: touch ${d}/{{ inventory_hostname }}
`,
      ['--start-at-task', 'begin here'],
      ['h1', 'h2'],
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok(!existsSync(`${d}-first`));
    assert.deepEqual(readdirSync(d).sort(), ['h1', 'once-h1']);
  });

  it('--json writes one versioned event per line and moves human output to stderr', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  tasks:
    - command: echo hi
    - command: echo secret
      no_log: true
`,
      ['--json'],
    );
    assert.equal(r.code, 0, r.stderr);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { v: unknown; type: unknown; result?: { stdout?: unknown }; durationMs?: unknown });
    assert.ok(events.every((e) => e.v === 1));
    assert.deepEqual(
      [...new Set(events.map((e) => e.type))],
      ['playbook_start', 'play_start', 'task_start', 'host_result', 'recap'],
    );
    const results = events.filter((e) => e.type === 'host_result');
    assert.equal(results[0].result?.stdout, 'hi');
    assert.equal(typeof results[0].durationMs, 'number');
    assert.ok(!JSON.stringify(results[1]).includes('secret'));
    assert.match(r.stderr, /PLAY RECAP/);
  });

  it('--list-hosts, --list-tasks and --list-tags run nothing', async () => {
    const m = ws.path('listed');
    const yaml = `
- name: the play
  hosts: all
  tasks:
    - { name: make it, command: "touch ${m}", tags: [t1] }
`;
    const r = await play(ws, yaml, ['--list-hosts', '--list-tasks', '--list-tags'], ['h1', 'h2']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /hosts \(2\):\n\s+h1\n\s+h2/);
    assert.match(r.stdout, /make it\tTAGS: \[t1\]/);
    assert.match(r.stdout, /TASK TAGS: \[t1\]/);
    assert.ok(!existsSync(m));
  });

  it('environment, become-free run, delegate_to and the -v slowest tasks', async () => {
    const f = ws.path('env.txt');
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  environment: { GREETING: "hello world" }
  tasks:
    - shell: echo "$GREETING" > ${f}
      delegate_to: h2
`,
      ['-v'],
      ['h1', 'h2'],
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(readFileSync(f, 'utf8'), 'hello world\n');
    assert.match(r.stdout, /\[h1 -> h2\]/);
    assert.match(r.stdout, /SLOWEST TASKS/);
  });
});
