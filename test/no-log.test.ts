// no_log hides everything of the task (issue 11, item 3): at every verbosity,
// in --json and --diff, its loop labels, the commands -vv shows, the -vvv
// debug lines, the environment, diffs and error messages. Through the real CLI
// on the local connection; the secret comes from a vars file and from a
// templated no_log.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli, workspace } from './helpers/cli.js';

type Ws = ReturnType<typeof workspace>;

const SECRET = 'n0-log-canary-789';

const PLAYBOOK = `
- hosts: h1
  gather_facts: false
  vars:
    hide: true
  tasks:
    - name: a command with the secret in its argv and environment
      command: echo {{ pw }}
      environment: { DBPW: "{{ pw }}" }
      no_log: true
    - name: a loop over secrets
      debug: { msg: "item {{ item }}" }
      loop: ["{{ pw }}", "second-{{ pw }}"]
      no_log: "{{ hide }}"
    - name: a file holding the secret (diff)
      copy: { content: "password={{ pw }}\\n", dest: "{{ playbook_dir }}/out/secret.conf", mode: "0600" }
      no_log: true
    - name: a failing command whose error names the secret
      shell: echo "bad {{ pw }}" >&2; exit 3
      no_log: true
      ignore_errors: true
    - name: invalid arguments built from the secret
      file: { path: "{{ playbook_dir }}/out/x", state: "{{ pw }}" }
      no_log: true
      ignore_errors: true
`;

describe('no_log hides the task at every verbosity (CLI, local connection)', () => {
  let ws: Ws;
  before(() => {
    ws = workspace();
    ws.write('inv.yml', 'all:\n  hosts:\n    h1: { ansible_connection: local }\n');
    ws.write('vars.yml', `pw: ${SECRET}\n`);
    ws.write('pb.yml', PLAYBOOK);
    ws.write('out/.keep', '');
  });
  after(() => ws.cleanup());

  const variants: [string, string[]][] = [
    ['default', []],
    ['-v', ['-v']],
    ['-vv', ['-vv']],
    ['-vvv', ['-vvv']],
    ['--json -vvv', ['--json', '-vvv']],
    ['--diff -vvv', ['--diff', '-vvv']],
    ['--check --diff -vvv', ['--check', '--diff', '-vvv']],
  ];
  for (const [name, flags] of variants) {
    it(`${name}: the secret appears nowhere`, async () => {
      const r = await runCli(['-i', ws.path('inv.yml'), ws.path('pb.yml'), '-e', `@${ws.path('vars.yml')}`, ...flags], {
        cwd: ws.dir,
      });
      const all = r.stdout + r.stderr;
      assert.ok([0, 2].includes(r.code), all);
      assert.ok(all.includes('a loop over secrets'), 'the run got to the tasks:\n' + all);
      assert.ok(!all.includes(SECRET), `the secret reached the output:\n${all}`);
    });
  }
});
