// Ansible converts module arguments to their declared types
// (lib/ansible/module_utils/common/validation.py check_type_bool, check_type_int;
// module_utils/parsing/convert_bool.py BOOLEANS_TRUE/BOOLEANS_FALSE): the
// corpus item havlasme-group-create writes `system: "yes"`, literally and
// through a template, and Ansible takes it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import groupModule from '../modules/group.js';
import fileModule from '../modules/file.js';
import { coerceArgs } from '../src/playbook/arg-coerce.js';
import { runCli, workspace, localInventory } from './helpers/cli.js';

test("Ansible's boolean and integer spellings become the argument's type", () => {
  for (const [text, want] of [
    ['yes', true],
    ['On', true],
    ['1', true],
    ['t', true],
    ['y', true],
    ['no', false],
    ['OFF', false],
    ['0', false],
    ['false', false],
  ] as const)
    assert.deepEqual(coerceArgs(groupModule.args, { name: 'g', system: text }), { name: 'g', system: want }, text);
  assert.deepEqual(coerceArgs(groupModule.args, { name: 'g', system: 1, gid: '915' }), {
    name: 'g',
    system: true,
    gid: 915,
  });
});

test('other values are left for the schema to refuse; strings stay strings where a string is taken', () => {
  assert.deepEqual(coerceArgs(groupModule.args, { name: 'yes', system: 'maybe', gid: '9x' }), {
    name: 'yes',
    system: 'maybe',
    gid: '9x',
  });
  // file's mode takes a string: "0644" is not made a number
  assert.deepEqual(coerceArgs(fileModule.args, { path: '/x', mode: '0644', recurse: 'no' }), {
    path: '/x',
    mode: '0644',
    recurse: false,
  });
});

test('a quoted "yes" passes validation, literally and rendered from a template', async () => {
  const ws = workspace({
    'inv.ini': localInventory(['h1']),
    'p.yml': `- hosts: all\n  gather_facts: false\n  vars: { sys: "yes" }\n  tasks:\n    - group: { name: phxcoerce, system: "yes" }\n    - group: { name: phxcoerce, system: "{{ sys }}" }\n    - group: { name: phxcoerce, system: "maybe" }\n`,
  });
  try {
    const r = await runCli(['-i', ws.path('inv.ini'), '--syntax-check', ws.path('p.yml')]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const errors = (r.stdout + r.stderr).split('\n').filter((l) => /expected boolean/.test(l));
    assert.equal(errors.length, 1, r.stdout + r.stderr);
    assert.match(errors[0], /p\.yml:7:\d+: argument 'system' of module 'group': expected boolean, got "maybe"/);
  } finally {
    ws.cleanup();
  }
});
