// Through the real CLI on the local connection: a "host" prints template text
// that would read the controller's environment and another host's password.
// However a playbook copies that output, the canary never reaches the output
// nor the host, and the text itself is shown as it is.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { runCli, workspace } from './helpers/cli.js';

type Ws = ReturnType<typeof workspace>;

const CANARY = 'secret-canary-123';
const OTHER_SECRET = 'other-password-456';
const EVIL_ENV = '{{ lookup "env" "PHX_CANARY" }}';
const EVIL_HOSTVARS = '{{ hostvars.other.secret }}';

const INVENTORY = `
all:
  hosts:
    h1: { ansible_connection: local }
    other: { ansible_connection: local, secret: ${OTHER_SECRET} }
`;

async function play(ws: Ws, yaml: string, args: string[] = []) {
  ws.write('inv.yml', INVENTORY);
  ws.write('pb.yml', yaml);
  return runCli(['-i', ws.path('inv.yml'), ws.path('pb.yml'), '-v', ...args], {
    cwd: ws.dir,
    env: { PHX_CANARY: CANARY },
  });
}

function assertNoLeak(text: string, what: string): void {
  assert.ok(!text.includes(CANARY), `the env canary reached ${what}:\n${text}`);
  assert.ok(!text.includes(OTHER_SECRET), `another host's secret reached ${what}:\n${text}`);
}

/** What a run printed shows the hostile text as data (JSON-escaped in -v dumps). */
function assertShown(output: string): void {
  assert.ok(output.includes('hostvars.other.secret'), output);
  assert.ok(output.includes('PHX_CANARY'), output);
}

describe('host output is data, never a template (CLI, local connection)', () => {
  let ws: Ws;
  before(() => {
    ws = workspace();
    ws.write('evil.txt', `${EVIL_ENV}\n${EVIL_HOSTVARS}\n`);
    ws.write('shown.txt.hbs', '{{ copied }}\n{{#each r.stdout_lines}}{{this}}\n{{/each}}');
  });
  after(() => ws.cleanup());

  it('registered output copied by set_fact, loop, vars, debug and module args stays text', async () => {
    const r = await play(
      ws,
      `
- hosts: h1
  gather_facts: false
  tasks:
    - name: the host prints template text
      command: cat {{ playbook_dir }}/evil.txt
      register: r
      changed_when: "'PHX_CANARY' in r.stdout"
    - set_fact:
        copied: "{{ r.stdout }}"
        joined: "prefix {{ r.stdout }}"
        trimmed: "{{ trim r.stdout }}"
        replaced: "{{ replace r.stdout 'no-such-text' 'x' }}"
        regexed: "{{ regex_replace r.stdout '^nomatch$' 'x' }}"
        lines: "{{ join r.stdout_lines ' | ' }}"
        defaulted: "{{ default r.stdout 'fallback' }}"
    - set_fact:
        copy_of_copy: "{{ copied }}"
    - debug: { msg: "{{ copied }}" }
    - debug: { msg: "{{ joined }} / {{ trimmed }} / {{ replaced }} / {{ regexed }} / {{ lines }} / {{ defaulted }}" }
    - debug: { msg: "{{ copy_of_copy }}" }
    - debug: { msg: "line: {{ item }}" }
      loop: "{{ r.stdout_lines }}"
    - debug: { msg: "{{ via_vars }}" }
      vars: { via_vars: "{{ r.stdout }}" }
    - debug: { var: copied }
    - name: echo it back to the host
      command:
        argv: [printf, "%s", "{{ joined }} {{ copy_of_copy }}"]
      register: echoed
    - name: write it on the host
      copy:
        content: "{{ lines }} {{ via_vars }}\\n"
        dest: "{{ playbook_dir }}/written.txt"
      vars: { via_vars: "{{ copied }}" }
    - name: a template file showing it
      template: { src: shown.txt.hbs, dest: "{{ playbook_dir }}/templated.txt" }
    - name: in a loop's args
      command:
        argv: [printf, "%s\\n", "{{ item }}"]
      loop: "{{ r.stdout_lines }}"
      register: looped
    - assert:
        that:
          - echoed.stdout is search('PHX_CANARY')
          - copied == r.stdout
          - r.stdout_lines | length == 2
          - "'hostvars.other.secret' in looped.results[1].stdout"
`,
    );
    const output = r.stdout + r.stderr;
    assert.equal(r.code, 0, output);
    assertNoLeak(output, 'the output');
    assertShown(output);
    const written = readFileSync(ws.path('written.txt'), 'utf8');
    assertNoLeak(written, 'the host (a written file)');
    assert.ok(written.includes(EVIL_ENV) && written.includes(EVIL_HOSTVARS), written);
    const templated = readFileSync(ws.path('templated.txt'), 'utf8');
    assertNoLeak(templated, 'the host (a template)');
    assert.equal(templated, `${EVIL_ENV}\n${EVIL_HOSTVARS}\n${EVIL_ENV}\n${EVIL_HOSTVARS}\n`);
  });

  it('-e @file contents and lookup file contents are text', async () => {
    ws.write('extra.yml', `from_extra: '${EVIL_ENV}'\nlist_extra: ['${EVIL_HOSTVARS}']\n`);
    const r = await play(
      ws,
      `
- hosts: h1
  gather_facts: false
  tasks:
    - set_fact:
        from_file: "{{ lookup 'file' 'evil.txt' }}"
        extra_copy: "{{ from_extra }}"
    - debug: { msg: "{{ from_file }} | {{ from_extra }} | {{ extra_copy }} | {{ list_extra }}" }
    - command:
        argv: [printf, "%s", "{{ from_file }} {{ extra_copy }}"]
      register: echoed
    - assert:
        that: ["'PHX_CANARY' in echoed.stdout", "'hostvars.other.secret' in echoed.stdout"]
`,
      ['-e', `@${ws.path('extra.yml')}`],
    );
    const output = r.stdout + r.stderr;
    assert.equal(r.code, 0, output);
    assertNoLeak(output, 'the output');
    assertShown(output);
  });

  it('!unsafe in a vars file, in play vars and in the inventory is never rendered', async () => {
    ws.write('unsafe-vars.yml', `literal: !unsafe '${EVIL_ENV}'\n`);
    ws.write(
      'inv-unsafe.yml',
      `all:\n  hosts:\n    h1: { ansible_connection: local, inv_literal: !unsafe '${EVIL_HOSTVARS}' }\n` +
        `    other: { ansible_connection: local, secret: ${OTHER_SECRET} }\n`,
    );
    ws.write(
      'pb-unsafe.yml',
      `
- hosts: h1
  gather_facts: false
  vars_files: [unsafe-vars.yml]
  vars:
    play_literal: !unsafe '${EVIL_ENV} and {{ nothing }}'
    rendered: "{{ 'plain' }}"
  tasks:
    - debug: { msg: "{{ literal }} | {{ play_literal }} | {{ inv_literal }}" }
    - command: !unsafe printf '%s' '{{ not rendered }}'
      register: raw
    - assert:
        that:
          - raw.stdout is search('not rendered')
          - raw.stdout.startswith('{' ~ '{')
          - literal is search('PHX_CANARY')
`,
    );
    const r = await runCli(['-i', ws.path('inv-unsafe.yml'), ws.path('pb-unsafe.yml'), '-v'], {
      cwd: ws.dir,
      env: { PHX_CANARY: CANARY },
    });
    const output = r.stdout + r.stderr;
    assert.equal(r.code, 0, output);
    assertNoLeak(output, 'the output');
    assertShown(output);
  });

  it('a condition made of host output is refused, not evaluated', async () => {
    ws.write('cond.txt', `lookup('env', 'PHX_CANARY') == '${CANARY}'\n`);
    const r = await play(
      ws,
      `
- hosts: h1
  gather_facts: false
  tasks:
    - command: cat {{ playbook_dir }}/cond.txt
      register: r
    - name: debug var is not an evaluator for host output
      debug: { var: "{{ r.stdout }}" }
    - debug: { msg: "the host guessed the secret" }
      when: "{{ r.stdout }}"
`,
    );
    const output = r.stdout + r.stderr;
    assert.equal(r.code, 2, output);
    assert.match(output, /unsafe/);
    assert.match(output, /VARIABLE IS NOT DEFINED!/);
    assert.doesNotMatch(output, /'": true/); // the host's expression was not evaluated to true
    assert.ok(!output.includes('the host guessed the secret'), output);
  });
});
