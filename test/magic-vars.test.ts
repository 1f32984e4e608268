// Ansible's `vars` magic variable (issue 15): every variable a template sees, by name
// (lib/ansible/vars/manager.py VariableManager.get_vars: all_vars['vars'] = all_vars.copy()),
// so that a name built at run time (`vars['port_' + role]`) or one that is not an identifier
// (a role default `a-b`) can be read; a value that is a template renders when read, as any variable.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { localInventory, runCli, workspace } from './helpers/cli.js';

type Ws = ReturnType<typeof workspace>;

/** the msg lines debug printed, in order */
function said(stdout: string): string[] {
  return [...stdout.matchAll(/"msg": "([^"]*)"/g)].map((m) => m[1]);
}

describe('the vars magic variable', () => {
  let ws: Ws;
  before(() => {
    ws = workspace({});
  });
  after(() => ws.cleanup());

  it('reads variables by a computed name, renders templates in them, and sees the loop item', async () => {
    ws.write('inv.ini', localInventory(['h1']));
    ws.write(
      'pb.yml',
      `- hosts: all
  gather_facts: false
  vars:
    port_web: 80
    colour: blue
    late: "{{ colour }}-x"
  tasks:
    - debug: { msg: "{{ vars['port_' + 'web'] }} {{ vars.late }} {{ vars.nope | default('none') }}" }
    - debug: { msg: "{{ vars[item] }} {{ vars.item }}" }
      loop: [colour]
`,
    );
    const r = await runCli(['-i', ws.path('inv.ini'), ws.path('pb.yml')], { cwd: ws.dir });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(said(r.stdout), ['80 blue-x none', 'blue colour']);
  });
});
