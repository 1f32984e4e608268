// The playbook loader on valid playbooks: every keyword ends up in the AST the
// executor runs, normalised (tags as lists, loops transformed, imports expanded).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPlaybook, loadTaskFile } from '../src/playbook/index.js';
import type { Block, IncludeTasks, Meta, Task, TaskNode } from '../src/playbook/types.js';
import { ValidationErrors } from '../src/errors.js';
import { testRegistry } from './fixtures/playbooks/registry.js';

const FIX = fileURLToPath(new URL('../../test/fixtures/playbooks/', import.meta.url));
const registry = testRegistry();
const site = () => loadPlaybook(join(FIX, 'good/site.yml'), { registry });

const task = (n: TaskNode | undefined): Task => {
  assert.equal(n?.kind, 'task');
  return n;
};

test('play keywords are validated and normalised', () => {
  const pb = site();
  assert.equal(pb.plays.length, 2);
  const p = pb.plays[0];
  assert.equal(p.name, 'Prepare hypervisors');
  assert.equal(p.hosts, 'pve1,pve2');
  assert.deepEqual(p.vars, { pool: 'tank', datasets: ['ct', 'vm'] });
  assert.deepEqual(p.serial, [1, '50%']);
  assert.equal(p.any_errors_fatal, false);
  assert.equal(p.max_fail_percentage, 20);
  assert.equal(p.become, true);
  assert.equal(p.become_user, 'root');
  assert.deepEqual(p.environment, { LC_ALL: 'C' });
  assert.deepEqual(p.tags, ['setup', 'storage']);
  assert.equal(p.gather_facts, false);
  assert.equal(p.check_mode, false);
  assert.equal(p.diff, true);
  assert.equal(p.ignore_errors, false);
  assert.equal(p.no_log, false);
  assert.equal(p.force_handlers, true);
  assert.equal(p.remote_user, 'admin');
  assert.equal(p.connection, 'local');
  assert.equal(p.baseDir, join(FIX, 'good'));
  assert.deepEqual(p.loc, { file: join(FIX, 'good/site.yml'), line: 2, col: 3 });
});

test('vars_files: static files are loaded now, templated ones kept for later', () => {
  const p = site().plays[0];
  assert.deepEqual(p.vars_files, [join(FIX, 'good/vars/common.yml')]);
  assert.deepEqual(p.vars_files_data, [
    { path: join(FIX, 'good/vars/common.yml'), vars: { common_var: 1, motd: 'hello' } },
    { template: 'vars/{{ env_name }}.yml' },
  ]);
});

test('a task with every task keyword', () => {
  const t = task(site().plays[0].tasks[0]);
  assert.equal(t.module, 'zfs_dataset');
  assert.deepEqual(t.args, { name: '{{ pool }}/{{ item }}', properties: { compression: 'lz4' } });
  assert.equal(t.loop, '{{ datasets }}');
  assert.equal(t.loop_with, undefined);
  assert.deepEqual(t.loop_control, { loop_var: 'item', index_var: 'idx', label: '{{ item }}', pause: 0 });
  assert.equal(t.when, "pool is defined and pool != ''");
  assert.equal(t.register, 'made');
  assert.equal(t.changed_when, 'made.changed');
  assert.deepEqual(t.failed_when, ['made.failed', "'boom' in made.msg"]);
  assert.deepEqual(t.notify, ['restart things']);
  assert.deepEqual(t.tags, ['zfs', 'always']);
  assert.equal(t.retries, 3);
  assert.equal(t.until, 'made is succeeded');
  assert.equal(t.delay, 2);
  assert.equal(t.run_once, true);
  assert.equal(t.delegate_to, 'pve1');
  assert.equal(t.timeout, 30);
  assert.deepEqual(t.vars, { local_var: 1 });
  assert.equal(t.ignore_unreachable, true);
  assert.equal(t.no_log, '{{ secret_mode }}');
  assert.equal(t.loc.line, 29);
});

test('module arguments: aliases, key=value strings, free form, args:', () => {
  const tasks = site().plays[0].tasks;
  const file = task(tasks[1]);
  assert.equal(file.module, 'file'); // alias ansible.builtin.file → canonical
  assert.deepEqual(file.args, { path: '/tmp/x', state: 'directory', mode: '0755' });
  // free form: only the module's own options are taken out of the text
  assert.deepEqual(task(tasks[2]).args, { cmd: 'ls -l /tmp', chdir: '/var', creates: '/nope' });
  assert.deepEqual(task(tasks[3]).args, { argv: ['ls', '-l'] });
  assert.deepEqual(task(tasks[4]).args, { cmd: 'echo a=b | tee /tmp/out', chdir: '/tmp' });
  // templated values are left for run time even where the schema wants another type
  assert.deepEqual(task(tasks[5]).args, { dest: '/etc/motd', content: '{{ motd }}', mode: '{{ motd_mode }}' });
  assert.deepEqual(task(site().plays[0].pre_tasks[0]).args, { msg: 'hello {{ inventory_hostname }}' });
  // inline numbers become numbers where the module wants one
  const waitFor = site().plays[0].tasks.find((n) => n.kind === 'task' && n.module === 'wait_for') as Task;
  assert.deepEqual(waitFor.args, { port: 22, timeout: 5 });
});

test('with_items flattens one level, with_dict gives key/value items, with_list is loop', () => {
  const tasks = site().plays[0].tasks;
  assert.deepEqual(task(tasks[6]).loop, [1, 2, 3]);
  assert.deepEqual(task(tasks[7]).loop, [
    { key: 'a', value: 1 },
    { key: 'b', value: 2 },
  ]);
  assert.equal(task(tasks[8]).loop, '{{ mapping }}');
  assert.equal(task(tasks[8]).loop_with, 'dict');
  assert.deepEqual(task(tasks[9]).loop, [1, [2, 3]]);
});

test('block / rescue / always with inherited keywords; block notify reaches its tasks', () => {
  const b = site().plays[0].tasks[10] as Block;
  assert.equal(b.kind, 'block');
  assert.equal(b.name, 'a block');
  assert.equal(b.when, "pool == 'tank'");
  assert.equal(b.become, true);
  assert.deepEqual(b.tags, ['blk']);
  assert.deepEqual(b.vars, { in_block: true });
  assert.equal(b.ignore_errors, true);
  assert.deepEqual(b.environment, { A: '1' });
  assert.deepEqual(task(b.block[0]).notify, ['restart things', 'reload topic', 'from block']);
  assert.deepEqual(task(b.rescue[0]).notify, ['from block']);
  assert.equal((b.always[0] as Meta).kind, 'meta');
  assert.equal((b.always[0] as Meta).action, 'flush_handlers');
});

test('import_tasks expands now: with keywords as a block, without them in place', () => {
  const tasks = site().plays[0].tasks;
  const imported = tasks[11] as Block;
  assert.equal(imported.kind, 'block');
  assert.deepEqual(imported.tags, ['imported']);
  assert.equal(imported.when, 'do_common is undefined or do_common');
  assert.equal(task(imported.block[0]).name, 'common task');
  assert.equal(task(imported.block[0]).loc.file, join(FIX, 'good/tasks/common.yml'));
  // nested import, relative to the importing file
  assert.equal(task(imported.block[1]).name, 'nested task');
  assert.equal(task(tasks[12]).name, 'common task');
  assert.equal(task(tasks[13]).name, 'nested task');
});

test('include_tasks: preloaded when static, apply as a wrapping block, templated kept for run time', () => {
  const tasks = site().plays[0].tasks;
  const looped = tasks[14] as IncludeTasks;
  assert.equal(looped.kind, 'include_tasks');
  assert.deepEqual(looped.loop, [1, 2]);
  assert.equal(looped.file, 'tasks/common.yml');
  assert.equal(looped.baseDir, join(FIX, 'good'));
  assert.equal(task(looped.preloaded?.[0]).name, 'common task');
  const dynamic = tasks[15] as IncludeTasks;
  assert.equal(dynamic.file, 'tasks/{{ flavour }}.yml');
  assert.equal(dynamic.preloaded, undefined);
  assert.deepEqual(dynamic.apply, { tags: ['dyn'], become: true });
  const applied = tasks[16] as IncludeTasks;
  const wrapper = applied.preloaded?.[0] as Block;
  assert.equal(wrapper.kind, 'block');
  assert.deepEqual(wrapper.tags, ['applied']);
  assert.equal(task(wrapper.block[0]).name, 'common task');
  assert.equal(applied.apply, undefined);
});

test('assert, set_fact, meta, post_tasks and handlers', () => {
  const p = site().plays[0];
  const a = task(p.tasks[17]);
  assert.deepEqual(a.args, { that: ["pool == 'tank'", "'ct' in datasets"], fail_msg: 'bad' });
  assert.deepEqual(task(p.tasks[19]).args, { answer: 42 });
  const end = p.tasks[20] as Meta;
  assert.equal(end.action, 'end_host');
  assert.equal(end.when, false);
  assert.equal(task(p.post_tasks[0]).module, 'debug');
  assert.deepEqual(task(p.handlers[0]).listen, ['reload topic']);
  assert.equal(task(p.handlers[2]).name, 'imported handler');
  assert.deepEqual(task(p.handlers[2]).listen, ['common topic']);
});

test('import_playbook: the imported plays, with the import vars winning and tags added', () => {
  const p = site().plays[1];
  assert.equal(p.hosts, 'all');
  assert.equal(p.name, 'all');
  assert.deepEqual(p.vars, { imported: true, own: 1 });
  assert.deepEqual(p.tags, ['other']);
  assert.equal(p.baseDir, join(FIX, 'good'));
});

// playbook/play.py: gather_facts is None unless written; play_iterator.py gathers then with
// `gathering = implicit` (Ansible's default)
test('plays default: gather_facts true, no serial, empty sections', () => {
  const dir = mkdtempSync(join(tmpdir(), 'phx-pb-'));
  try {
    const file = join(dir, 'p.yml');
    writeFileSync(file, '- hosts: localhost\n  tasks:\n');
    const p = loadPlaybook(file, { registry }).plays[0];
    assert.equal(p.gather_facts, true);
    assert.equal(p.serial, undefined);
    assert.deepEqual([p.pre_tasks, p.tasks, p.post_tasks, p.handlers], [[], [], [], []]);
    writeFileSync(file, '');
    assert.deepEqual(loadPlaybook(file, { registry }).plays, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('loadTaskFile validates a task file on its own (include_tasks at run time)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'phx-pb-'));
  try {
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub/t.yml'), '- debug: msg=hi\n- import_tasks: u.yml\n');
    writeFileSync(join(dir, 'sub/u.yml'), '- command: /bin/true\n');
    const tasks = loadTaskFile(join(dir, 'sub/t.yml'), { registry });
    assert.deepEqual(
      tasks.map((t) => (t as Task).module),
      ['debug', 'command'],
    );
    writeFileSync(join(dir, 'sub/u.yml'), '- comand: /bin/true\n');
    assert.throws(
      () => loadTaskFile(join(dir, 'sub/t.yml'), { registry }),
      (e: unknown) =>
        e instanceof ValidationErrors && e.errors[0].message === "unknown module 'comand'; did you mean 'command'?",
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the real built-in modules (dist/modules): aliases, argument checks, and speed of ~100 tasks', async () => {
  const { loadRegistry } = await import('../src/registry.js');
  const started = performance.now();
  const real = await loadRegistry();
  const dir = mkdtempSync(join(tmpdir(), 'phx-pb-'));
  try {
    const lines = ['- hosts: all', '  vars: { base: /tmp/phx }', '  tasks:'];
    for (let i = 0; i < 25; i++) {
      lines.push(
        `    - name: dir ${i}`,
        `      ansible.builtin.file: path={{ base }}/d${i} state=directory mode=0755`,
        `      when: base is defined and ${i} < 100`,
        `    - name: copy ${i}`,
        '      copy:',
        `        dest: "{{ base }}/d${i}/f"`,
        `        content: "hello {{ inventory_hostname }} ${i}"`,
        '      notify: h',
        `    - name: cmd ${i}`,
        `      command: ls -l {{ base }}/d${i} chdir=/tmp`,
        `      register: r${i}`,
        `      changed_when: r${i}.rc != 0`,
        `    - name: shell ${i}`,
        `      shell: echo ${i} | cat`,
        '      loop: [1, 2, 3]',
      );
    }
    lines.push('  handlers:', '    - name: h', '      command: /bin/true');
    const file = join(dir, 'big.yml');
    writeFileSync(file, lines.join('\n') + '\n');
    const t = performance.now();
    const pb = loadPlaybook(file, { registry: real });
    const loadMs = performance.now() - t;
    assert.equal(pb.plays[0].tasks.length, 100);
    assert.equal(task(pb.plays[0].tasks[0]).module, 'file');
    // budget: --syntax-check of ~100 tasks well under 400 ms with the registry; generous here for loaded CI machines
    assert.ok(loadMs < 400, `loading 100 tasks took ${loadMs.toFixed(0)} ms`);
    assert.ok(
      performance.now() - started < 1500,
      `registry + load took ${(performance.now() - started).toFixed(0)} ms`,
    );

    writeFileSync(file, '- hosts: all\n  tasks:\n    - copy: { dest: /tmp/x, contnt: a }\n');
    assert.throws(
      () => loadPlaybook(file, { registry: real }),
      (e: unknown) =>
        e instanceof ValidationErrors &&
        e.errors.length === 1 &&
        e.errors.some(
          (x) =>
            x.message === "unknown argument 'contnt' for module 'copy'; did you mean 'content'?" &&
            x.loc?.line === 3 &&
            x.loc.col === 29,
        ),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a task file that include_tasks itself is legal (loaded when reached); quoted booleans are booleans', () => {
  const dir = mkdtempSync(join(tmpdir(), 'phx-pb-'));
  try {
    writeFileSync(
      join(dir, 'retry.yml'),
      '- command: /bin/true\n  register: r\n- include_tasks: retry.yml\n  when: r.rc != 0\n',
    );
    writeFileSync(
      join(dir, 'p.yml'),
      '- hosts: all\n  gather_facts: false\n  become: "yes"\n  tasks:\n    - include_tasks: retry.yml\n      no_log: "False"\n',
    );
    const play = loadPlaybook(join(dir, 'p.yml'), { registry }).plays[0];
    assert.equal(play.become, true);
    const outer = play.tasks[0] as IncludeTasks;
    assert.equal(outer.no_log, false);
    const inner = outer.preloaded?.[1] as IncludeTasks;
    assert.equal(inner.kind, 'include_tasks');
    assert.equal(inner.when, 'r.rc != 0');
    assert.equal(inner.preloaded, undefined);
    assert.equal(inner.baseDir, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('free-form text keeps its quotes and newlines when options are taken out of it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'phx-pb-'));
  try {
    const file = join(dir, 'p.yml');
    writeFileSync(
      file,
      [
        '- hosts: all',
        '  gather_facts: false',
        '  tasks:',
        '    - shell: |',
        '        set -e',
        '        echo "a  b" > /tmp/out   creates=/tmp/out',
        '        FOO=bar env | grep FOO',
        '    - command: echo "x=1  y" chdir=/srv',
        '',
      ].join('\n'),
    );
    const tasks = loadPlaybook(file, { registry }).plays[0].tasks;
    assert.deepEqual(task(tasks[0]).args, {
      cmd: 'set -e\necho "a  b" > /tmp/out\nFOO=bar env | grep FOO',
      creates: '/tmp/out',
    });
    assert.deepEqual(task(tasks[1]).args, { cmd: 'echo "x=1  y"', chdir: '/srv' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
