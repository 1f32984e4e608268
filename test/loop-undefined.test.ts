// A loop over an undefined variable on a task whose `when` is false: skipped, as Ansible does
// (lib/ansible/executor/task_executor.py TaskExecutor.run keeps the AnsibleUndefinedVariable of
// _get_loop_items as _loop_eval_error; _execute evaluates the conditional first, returns skipped when
// it is false, and raises the loop's error only when it holds). Seen in nickhammond/ansible-logrotate
// (test/compat/nickhammond-logrotate): with_nested over `all_configurations.files` of a skipped find.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { localInventory, recap, runCli, workspace } from './helpers/cli.js';

type Ws = ReturnType<typeof workspace>;

async function play(ws: Ws, yaml: string) {
  ws.write('inv.ini', localInventory(['h1']));
  ws.write('pb.yml', yaml);
  return runCli(['-i', ws.path('inv.ini'), ws.path('pb.yml')], { cwd: ws.dir });
}

describe('a loop over an undefined variable', () => {
  let ws: Ws;
  before(() => (ws = workspace()));
  after(() => ws.cleanup());

  it('is skipped when the task’s when is false', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  tasks:
    - debug: { msg: "{{ item }}" }
      with_nested: ["{{ nothing.files }}", [a]]
      when: false
    - debug: { msg: "{{ item }}" }
      loop: "{{ missing }}"
      when: missing is defined
`,
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual([recap(r.stdout).h1.ok, recap(r.stdout).h1.skipped], [0, 2]);
  });

  it('fails on the loop’s undefined variable when the when holds, or without a when', async () => {
    for (const when of ['      when: true\n', '']) {
      const r = await play(
        ws,
        `
- hosts: all
  gather_facts: false
  tasks:
    - debug: { msg: "{{ item }}" }
      loop: "{{ missing }}"
${when}`,
      );
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stdout + r.stderr, /undefined variable 'missing'/);
    }
  });

  it('a loop error that is not an undefined variable fails even under a false when', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  tasks:
    - debug: { msg: "{{ item }}" }
      loop: "{{ 3 }}"
      when: false
`,
    );
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /loop must be a list/);
  });
});
