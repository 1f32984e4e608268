// Bad input is reported with its location, exit code 1, and nothing runs:
// every playbook here starts with a task that would leave a marker file.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { runCli, workspace, localInventory } from './helpers/cli.js';

type Ws = ReturnType<typeof workspace>;

const first = (marker: string) => `    - name: would run first\n      command: touch ${marker}\n`;

// [case name, playbook after the marker task's play header, expected line:col, expected message]
const cases: Array<[string, (m: string) => string, string, RegExp]> = [
  ['YAML syntax error', (m) => `- hosts: all\n  tasks:\n${first(m)}    - command: [unclosed\n`, '6:1', /YAML/],
  [
    'unknown play key',
    (m) => `- hosts: all\n  tsks: []\n  tasks:\n${first(m)}`,
    '2:3',
    /unknown key 'tsks'.*did you mean 'tasks'/,
  ],
  [
    'unknown task keyword',
    (m) => `- hosts: all\n  tasks:\n${first(m)}    - command: echo\n      whn: x\n`,
    '6:7',
    /whn.*did you mean 'when'/,
  ],
  [
    'unknown module',
    (m) => `- hosts: all\n  tasks:\n${first(m)}    - fiel: { path: /tmp/x }\n`,
    '5:7',
    /fiel.*did you mean 'file'/,
  ],
  ['task without a module', (m) => `- hosts: all\n  tasks:\n${first(m)}    - name: nothing\n`, '5:7', /no module/],
  [
    'task with two modules',
    (m) => `- hosts: all\n  tasks:\n${first(m)}    - command: echo\n      shell: echo\n`,
    '6:7',
    /two modules: 'command' and 'shell'/,
  ],
  [
    'wrong argument type',
    (m) => `- hosts: all\n  tasks:\n${first(m)}    - file: { path: /tmp/x, recurse: [1] }\n`,
    '5:',
    /recurse/,
  ],
  [
    'unknown module argument',
    (m) => `- hosts: all\n  tasks:\n${first(m)}    - file: { path: /tmp/x, sate: directory }\n`,
    '5:',
    /sate/,
  ],
  [
    'bad when expression',
    (m) => `- hosts: all\n  tasks:\n${first(m)}    - command: echo\n      when: a == (b\n`,
    '6:',
    /when|expect/i,
  ],
  [
    'bad template',
    (m) => `- hosts: all\n  tasks:\n${first(m)}    - command: echo {{ oops\n`,
    '5:',
    /template|Parse|expect/i,
  ],
  [
    'undefined handler',
    (m) => `- hosts: all\n  tasks:\n${first(m)}    - command: echo\n      notify: restart nothing\n`,
    '6:',
    /restart nothing/,
  ],
  ['missing vars_files', (m) => `- hosts: all\n  vars_files: [nope.yml]\n  tasks:\n${first(m)}`, '2:', /nope\.yml/],
  [
    'missing import_tasks file',
    (m) => `- hosts: all\n  tasks:\n${first(m)}    - import_tasks: missing.yml\n`,
    '5:',
    /missing\.yml/,
  ],
  ['play without hosts', (m) => `- name: no hosts\n  tasks:\n${first(m)}`, '1:', /hosts/],
  [
    'loop of the wrong type',
    (m) => `- hosts: all\n  tasks:\n${first(m)}    - command: echo\n      loop: 3\n`,
    '6:',
    /loop/,
  ],
  [
    'block with an unknown key',
    (m) => `- hosts: all\n  tasks:\n${first(m)}    - block:\n        - command: echo\n      rescu: []\n`,
    '7:',
    /rescu.*did you mean 'rescue'/,
  ],
];

describe('engine: invalid playbooks never run', () => {
  let ws: Ws;
  before(() => {
    ws = workspace();
    ws.write('inv.ini', localInventory(['h1']));
  });
  after(() => ws.cleanup());

  for (const [name, text, where, message] of cases) {
    it(name, async () => {
      const marker = ws.path(`marker-${name.replace(/\W+/g, '-')}`);
      ws.write('pb.yml', text(marker));
      const r = await runCli(['-i', ws.path('inv.ini'), ws.path('pb.yml')], { cwd: ws.dir });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.ok(r.stderr.includes(`pb.yml:${where}`), `expected pb.yml:${where} in\n${r.stderr}`);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /nothing was run/);
      assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
      assert.ok(!existsSync(marker), 'no task ran');
      assert.equal(r.stdout, '');
    });
  }

  it('a bad inventory is located too', async () => {
    ws.write('bad.yml', 'all:\n  hots:\n    h1:\n');
    ws.write('pb.yml', `- hosts: all\n  tasks:\n${first(ws.path('inv-marker'))}`);
    const r = await runCli(['-i', ws.path('bad.yml'), ws.path('pb.yml')], { cwd: ws.dir });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /bad\.yml:2:3/);
    assert.ok(!existsSync(ws.path('inv-marker')));
  });

  it('a --limit that selects nothing and an unknown --start-at-task stop before anything runs', async () => {
    ws.write('pb.yml', `- hosts: all\n  tasks:\n${first(ws.path('limit-marker'))}`);
    const l = await runCli(['-i', ws.path('inv.ini'), '-l', 'nohost', ws.path('pb.yml')], { cwd: ws.dir });
    assert.equal(l.code, 1);
    assert.match(l.stderr, /--limit 'nohost' matches no host/);
    const s = await runCli(['-i', ws.path('inv.ini'), '--start-at-task', 'no such task', ws.path('pb.yml')], {
      cwd: ws.dir,
    });
    assert.equal(s.code, 1);
    assert.match(s.stderr, /no task is named 'no such task'/);
    assert.ok(!existsSync(ws.path('limit-marker')));
  });

  it('usage errors exit 1 with a hint', async () => {
    const r = await runCli(['--forks', 'many', 'pb.yml'], { cwd: ws.dir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--forks expects a positive whole number/);
    const u = await runCli(['--no-such-flag', 'pb.yml'], { cwd: ws.dir });
    assert.equal(u.code, 1);
    assert.match(u.stderr, /no-such-flag/);
  });
});
