// The JSON Schema for editors: generated from the same zod schemas as the
// loader, so a playbook the loader accepts validates, and typos are flagged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { playbookJsonSchema } from '../src/playbook/index.js';
import { loadRegistry } from '../src/registry.js';
import { testRegistry } from './fixtures/playbooks/registry.js';

const FIX = fileURLToPath(new URL('../../test/fixtures/playbooks/', import.meta.url));
type Json = Record<string, unknown>;

/** A small draft-07 validator: the keywords the generated schema uses. Returns the paths that fail. */
function validate(schema: Json, root: Json, value: unknown, path = '$'): string[] {
  if (typeof schema.$ref === 'string') {
    const target = schema.$ref.replace('#/definitions/', '');
    const def = (root.definitions as Json)[target] as Json | undefined;
    assert.ok(def, `unresolved $ref ${schema.$ref}`);
    return validate(def, root, value, path);
  }
  const errors: string[] = [];
  if (schema.anyOf) {
    const branches = (schema.anyOf as Json[]).map((s) => validate(s, root, value, path));
    if (branches.every((b) => b.length)) errors.push(...branches.sort((a, b) => a.length - b.length)[0]);
  }
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    const actual =
      value === null
        ? 'null'
        : Array.isArray(value)
          ? 'array'
          : typeof value === 'number' && Number.isInteger(value)
            ? 'integer'
            : typeof value;
    if (!types.includes(actual) && !(actual === 'integer' && types.includes('number')))
      return [...errors, `${path}: expected ${types.join('|')}`];
  }
  if (schema.enum && !(schema.enum as unknown[]).includes(value)) errors.push(`${path}: not in enum`);
  if (typeof schema.pattern === 'string' && typeof value === 'string' && !new RegExp(schema.pattern).test(value))
    errors.push(`${path}: pattern`);
  if (typeof schema.minimum === 'number' && typeof value === 'number' && value < schema.minimum)
    errors.push(`${path}: minimum`);
  if (typeof schema.maximum === 'number' && typeof value === 'number' && value > schema.maximum)
    errors.push(`${path}: maximum`);
  if (Array.isArray(value) && schema.items)
    value.forEach((v, i) => errors.push(...validate(schema.items as Json, root, v, `${path}[${i}]`)));
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const props = (schema.properties ?? {}) as Json;
    for (const r of (schema.required ?? []) as string[]) if (!(r in value)) errors.push(`${path}: missing ${r}`);
    for (const [k, v] of Object.entries(value)) {
      if (k in props) errors.push(...validate(props[k] as Json, root, v, `${path}.${k}`));
      else if (schema.additionalProperties === false) errors.push(`${path}.${k}: not allowed`);
      else if (schema.additionalProperties && typeof schema.additionalProperties === 'object')
        errors.push(...validate(schema.additionalProperties as Json, root, v, `${path}.${k}`));
    }
  }
  return errors;
}

const schema = playbookJsonSchema(testRegistry());
const check = (yaml: string) => validate(schema, schema, parse(yaml, { version: '1.1' }));

test('the schema is draft-07 JSON with every module name and alias as a task key', () => {
  assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
  const round = JSON.parse(JSON.stringify(schema)) as Json;
  const task = (round.definitions as Json).task as Json;
  const props = task.properties as Json;
  for (const name of [
    'file',
    'ansible.builtin.file',
    'command',
    'set_fact',
    'zfs_dataset',
    'when',
    'loop',
    'notify',
    'import_tasks',
    'include_tasks',
    'meta',
    'ansible.builtin.include_tasks',
  ]) {
    assert.ok(name in props, name);
  }
  assert.equal(task.additionalProperties, false);
});

test('the valid fixture playbook validates against the schema', () => {
  const text = readFileSync(join(FIX, 'good/site.yml'), 'utf8');
  assert.deepEqual(check(text), []);
});

test('typos and wrong types are flagged', () => {
  assert.deepEqual(check('- hosts: all\n  tasks:\n    - debug: { msg: hi }\n      whn: true\n'), [
    '$[0].tasks[0].whn: not allowed',
  ]);
  assert.deepEqual(check('- hosts: all\n  tasks:\n    - file: { pth: /x, path: /y }\n'), [
    '$[0].tasks[0].file.pth: not allowed',
  ]);
  assert.deepEqual(check('- hosts: all\n  tasks:\n    - file: { path: /x, state: directroy }\n'), [
    '$[0].tasks[0].file.state: not in enum',
  ]);
  assert.deepEqual(check('- hosts: all\n  gather_fact: no\n'), ['$[0].gather_fact: not allowed']);
  assert.deepEqual(check('- tasks: []\n').length > 0, true);
  assert.deepEqual(check('- hosts: all\n  tasks:\n    - debug: var=x\n      loop: 3\n').length > 0, true);
});

test('templates are accepted where the argument wants another type; free-form modules take a string', () => {
  assert.deepEqual(
    check(
      '- hosts: all\n  tasks:\n    - file: { path: /x, recurse: "{{ deep }}", state: "{{ s }}" }\n    - command: ls -l\n',
    ),
    [],
  );
  assert.deepEqual(check('- hosts: all\n  tasks:\n    - file: { path: /x, recurse: "maybe" }\n').length > 0, true);
});

test('the schema for the real modules names every one of them', async () => {
  const registry = await loadRegistry();
  const real = playbookJsonSchema(registry);
  const props = ((real.definitions as Json).task as Json).properties as Json;
  for (const def of registry.all()) {
    for (const n of [def.name, ...(def.aliases ?? [])]) assert.ok(n in props, n);
  }
  assert.doesNotThrow(() => JSON.stringify(real));
});
