// Malformed playbooks: each one is rejected before anything runs, with every
// problem reported at once as `file:line:col: message` (the exact text the CLI prints).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPlaybook } from '../src/playbook/index.js';
import { ValidationErrors } from '../src/errors.js';
import { sourceLine } from '../src/yaml-source.js';
import { testRegistry } from './fixtures/playbooks/registry.js';

const FIX = fileURLToPath(new URL('../../test/fixtures/playbooks/', import.meta.url));
const registry = testRegistry();

/** Loads a bad playbook and returns its problems as the CLI would print them (paths relative to the fixtures). */
function problems(name: string): string[] {
  let thrown: unknown;
  try {
    loadPlaybook(join(FIX, 'bad', name), { registry });
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown instanceof ValidationErrors, `${name}: expected ValidationErrors, got ${String(thrown)}`);
  return thrown.errors.map((e) => {
    assert.ok(e.loc, `${name}: every problem is located (${e.message})`);
    assert.ok(sourceLine(e.loc) !== undefined, `${name}: the offending line can be shown`);
    return `${relative(FIX, e.loc.file)}:${e.loc.line}:${e.loc.col}: ${e.message.split(FIX).join('')}`;
  });
}

const EXPECTED: Record<string, string[]> = {
  'arg-range.yml': [
    "bad/arg-range.yml:3:22: argument 'port' of module 'wait_for': expected <= 65535, got 70000",
    "bad/arg-range.yml:4:24: argument 'argv' of module 'command': expected at least 1 item",
  ],
  'bad-assert.yml': [
    'bad/bad-assert.yml:6:18: invalid expression "y in in z": expected a value, got \'in\' after "y in"',
  ],
  'bad-enum.yml': [
    "bad/bad-enum.yml:5:16: argument 'state' of module 'file': expected one of 'file', 'directory', 'absent', 'touch', 'link', got \"directroy\"; did you mean 'directory'?",
  ],
  'bad-loop.yml': ["bad/bad-loop.yml:4:13: 'loop' expects a list or a template, got 3"],
  'bad-meta.yml': [
    'bad/bad-meta.yml:3:13: unknown meta action "flush_handler": expected one of flush_handlers, end_host, end_play, noop, clear_host_errors; did you mean \'flush_handlers\'?',
  ],
  'bad-register.yml': ['bad/bad-register.yml:4:17: \'register\' expects a variable name, got "my-result"'],
  'bad-serial.yml': [
    "bad/bad-serial.yml:2:12: 'serial' must be a whole number of hosts >= 1, got 0",
    'bad/bad-serial.yml:2:15: \'serial\' percentage must be more than 0% and at most 100%, got "150%"',
    'bad/bad-serial.yml:2:23: \'serial\' expects a number, a percentage or a list of them, got "abc"',
    "bad/bad-serial.yml:3:24: 'max_fail_percentage' expects a number from 0 to 100, got 120",
  ],
  'bad-template.yml': ["bad/bad-template.yml:4:21: invalid template: unclosed '{{' (missing '}}')"],
  'bad-var-names.yml': [
    "bad/bad-var-names.yml:4:5: 'bad-name' is not a valid variable name",
    'bad/bad-var-names.yml:8:19: \'loop_var\' expects a variable name, got "my item"',
    "bad/bad-var-names.yml:9:9: unknown key 'lable' in loop_control; did you mean 'label'?",
  ],
  'bad-when.yml': [
    'bad/bad-when.yml:4:22: invalid expression "ready == and done": expected a value, got \'and\' after "ready =="',
  ],
  'block-unknown-key.yml': ["bad/block-unknown-key.yml:5:7: unknown key 'rescu' in block; did you mean 'rescue'?"],
  'duplicate-handler.yml': [
    "bad/duplicate-handler.yml:6:7: duplicate handler name 'restart' (first defined at line 4)",
  ],
  'import-playbook-cycle.yml': [
    'bad/include/cycle-b.yml:3:20: import_playbook cycle: import-playbook-cycle.yml → cycle-b.yml → import-playbook-cycle.yml',
  ],
  'import-tasks-cycle.yml': ['bad/include/loop-b.yml:2:17: import cycle: loop-a.yml → loop-b.yml → loop-a.yml'],
  'inline-arg-position.yml': [
    "bad/inline-arg-position.yml:3:25: unknown argument 'sate' for module 'file'; did you mean 'state'?",
  ],
  'keyword-types.yml': [
    "bad/keyword-types.yml:4:13: 'when' expects a condition (string, boolean or list), got a mapping",
    'bad/keyword-types.yml:5:16: \'retries\' expects an integer >= 0 or a template, got "x"',
    "bad/keyword-types.yml:6:15: 'notify' expects a handler name or a list of them, got a mapping",
    'bad/keyword-types.yml:7:15: \'become\' expects a boolean or a template, got "sometimes"',
  ],
  'listen-outside-handlers.yml': ["bad/listen-outside-handlers.yml:4:7: 'listen' is only valid in handlers"],
  'loop-and-with.yml': [
    "bad/loop-and-with.yml:5:7: 'loop' and 'with_items' cannot be used together",
    "bad/loop-and-with.yml:7:7: 'with_fileglob' is not supported; use 'loop' (or with_items, with_list, with_dict, with_together, with_nested, with_sequence, with_flattened, with_first_found)",
  ],
  'many-errors.yml': [
    "bad/many-errors.yml:4:7: unknown module 'comand'; did you mean 'command'?",
    'bad/many-errors.yml:5:21: invalid expression "ready ==": expected a value after \'==\' after "ready =="',
    "bad/many-errors.yml:8:7: unknown key 'ignore_error' in task; did you mean 'ignore_errors'?",
    "bad/many-errors.yml:11:15: notify: no handler named 'nobody' in this play",
  ],
  'missing-arg.yml': ["bad/missing-arg.yml:3:7: missing required argument 'dest' for module 'copy'"],
  'missing-import-tasks.yml': [
    'bad/missing-import-tasks.yml:3:21: task file not found: bad/include/missing.yml',
    'bad/missing-import-tasks.yml:4:22: task file not found: bad/include/also-missing.yml',
  ],
  'missing-vars-file.yml': ['bad/missing-vars-file.yml:4:7: vars file not found: bad/include/nope.yml'],
  'no-module.yml': [
    'bad/no-module.yml:3:7: task has no module: expected one of assert, command, copy, debug, file, set_fact, shell, wait_for, zfs_dataset, block, import_tasks, include_tasks, import_role, include_role, meta',
  ],
  'not-a-list.yml': ['bad/not-a-list.yml:1:1: a playbook is a list of plays, got a mapping'],
  'roles.yml': ["bad/roles.yml:3:7: a role name in 'roles:' cannot hold a template; use include_role"],
  'task-at-top.yml': [
    "bad/task-at-top.yml:1:3: play has no 'hosts' (this looks like a task: a playbook is a list of plays, tasks go under a play's 'tasks:')",
    "bad/task-at-top.yml:2:3: unknown key 'command' in play",
  ],
  'templated-import.yml': [
    'bad/templated-import.yml:3:21: import_tasks is static: its file name cannot hold a template; use include_tasks',
  ],
  'two-modules.yml': ["bad/two-modules.yml:5:7: task has two modules: 'file' and 'copy'"],
  'undefined-handler.yml': [
    "bad/undefined-handler.yml:5:11: notify: no handler named 'restart nginx' in this play; did you mean 'restart ngnix'?",
  ],
  'unknown-arg.yml': [
    "bad/unknown-arg.yml:3:7: missing required argument 'path' for module 'file'",
    "bad/unknown-arg.yml:3:13: unknown argument 'pth' for module 'file'; did you mean 'path'?",
  ],
  'unknown-module.yml': ["bad/unknown-module.yml:4:7: unknown module 'fiel'; did you mean 'file'?"],
  'unknown-play-key.yml': [
    "bad/unknown-play-key.yml:2:3: unknown key 'gather_fact' in play; did you mean 'gather_facts'?",
  ],
  'unknown-task-key.yml': ["bad/unknown-task-key.yml:5:7: unknown key 'whn' in task; did you mean 'when'?"],
  'wrong-arg-type.yml': [
    "bad/wrong-arg-type.yml:5:18: argument 'recurse' of module 'file': expected boolean, got \"maybe\"",
  ],
  'wrong-place-keys.yml': [
    "bad/wrong-place-keys.yml:2:3: 'when' cannot be used on a play",
    "bad/wrong-place-keys.yml:6:7: 'loop' cannot be used on a block; to loop, use include_tasks",
    "bad/wrong-place-keys.yml:7:7: 'register' cannot be used on a block",
    "bad/wrong-place-keys.yml:9:7: 'with_items' cannot be used on import_tasks; to loop, use include_tasks",
    "bad/wrong-place-keys.yml:11:7: 'register' cannot be used on a meta task",
    "bad/wrong-place-keys.yml:13:7: unknown key 'registr' in task; did you mean 'register'?",
    "bad/wrong-place-keys.yml:14:7: unknown module 'shel'; did you mean 'shell'?",
    "bad/wrong-place-keys.yml:16:7: unknown key 'wen' in task; did you mean 'when'?",
  ],
  'yaml-duplicate-key.yml': ['bad/yaml-duplicate-key.yml:3:3: YAML: Map keys must be unique'],
  'yaml-syntax.yml': [
    'bad/yaml-syntax.yml:4:5: YAML: Flow map in block collection must be sufficiently indented and end with a }',
  ],
};

for (const [name, expected] of Object.entries(EXPECTED)) {
  test(`bad playbook ${name}`, () => {
    assert.deepEqual(problems(name), expected);
  });
}

test('every fixture in bad/ has its expectation', () => {
  const files = readdirSync(join(FIX, 'bad'))
    .filter((f) => f.endsWith('.yml'))
    .sort();
  assert.deepEqual(files, Object.keys(EXPECTED).sort());
  assert.ok(files.length >= 20);
});

test('the offending line is available for the caret display', () => {
  try {
    loadPlaybook(join(FIX, 'bad/bad-when.yml'), { registry });
    assert.fail('should not load');
  } catch (e) {
    assert.ok(e instanceof ValidationErrors);
    const loc = e.errors[0].loc!;
    assert.equal(sourceLine(loc), '      when: ready == and done');
    assert.equal(sourceLine(loc)!.slice(loc.col - 1), 'and done');
  }
});
