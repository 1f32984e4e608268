// Host output (and lookups, -e @file, !unsafe) is data: it is never rendered
// as a template, however it is copied, joined, filtered or looped over.
// Each test renders a copy of unsafe text again, the way a later task does:
// if the taint were lost on the way, the canary would come out.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseExtraVars } from '../src/cli/extra-vars.js';
import { evaluateCondition, evaluateExpression } from '../src/expr/index.js';
import { markUnsafe, renderString, renderValue, unwrapUnsafe } from '../src/template/index.js';
import { parseYaml } from '../src/yaml-source.js';
import { throwsPhx } from './harness/throws-phx.js';

const CANARY = 'secret-canary-123';
const OTHER_SECRET = 'other-password-456';
const EVIL_ENV = '{{ lookup "env" "PHX_CANARY" }}';
const EVIL_HOSTVARS = '{{ hostvars.other.secret }}';

/** What a hostile host printed, registered as `r`, beside what a playbook has. */
function hostileVars(): Record<string, unknown> {
  const stdout = `${EVIL_ENV}\n${EVIL_HOSTVARS}`;
  return {
    r: markUnsafe({ stdout, stdout_lines: stdout.split('\n'), rc: 0 }),
    hostvars: { other: { secret: OTHER_SECRET } },
    greeting: 'hello',
  };
}

/** Renders `value` the way a later task sees a var holding it: `{{ v }}`, in text and typed. */
function renderedAgain(value: unknown, vars: Record<string, unknown>): string {
  const again = { ...vars, v: value };
  return `${renderString('{{ v }}', again)} ${JSON.stringify(renderValue('{{ v }}', again))} ${renderString('x {{ v }} y', again)}`;
}

function assertNoLeak(text: string): void {
  assert.ok(!text.includes(CANARY), `the env canary leaked: ${text}`);
  assert.ok(!text.includes(OTHER_SECRET), `another host's secret leaked: ${text}`);
}

before(() => {
  process.env.PHX_CANARY = CANARY;
});
after(() => {
  delete process.env.PHX_CANARY;
});

describe('copies of host output stay unsafe', () => {
  test('a copy (set_fact x: "{{ r.stdout }}") and a list item are shown, not rendered', () => {
    const vars = hostileVars();
    const copy = renderValue('{{ r.stdout }}', vars);
    const shown = renderedAgain(copy, vars);
    assertNoLeak(shown);
    assert.ok(shown.includes(EVIL_ENV) && shown.includes(EVIL_HOSTVARS), shown);
    const line = renderValue('{{ r.stdout_lines.[1] }}', vars);
    assert.equal(renderString('{{ v }}', { ...vars, v: line }), EVIL_HOSTVARS);
  });

  test('text joined with host output is unsafe as a whole', () => {
    const vars = hostileVars();
    const joined = renderValue('{{ greeting }}: {{ r.stdout }}', vars);
    const shown = renderedAgain(joined, vars);
    assertNoLeak(shown);
    assert.ok(shown.includes(`hello: ${EVIL_ENV}`), shown);
    // an expression's concatenation too
    const concat = evaluateExpression("'pre ' ~ r.stdout ~ ' post'", vars);
    assertNoLeak(renderedAgain(concat, vars));
    assertNoLeak(renderedAgain(evaluateExpression("'pre ' + r.stdout", vars), vars));
  });

  test('loop items taken from stdout_lines stay unsafe', () => {
    const vars = hostileVars();
    const items = renderValue('{{ r.stdout_lines }}', vars) as unknown[];
    assert.equal(items.length, 2);
    for (const item of items) {
      const shown = renderString('{{ item }} / {{ v }}', { ...vars, item, v: '{{ item }}' });
      assertNoLeak(shown);
      assert.ok(shown.includes(String(item)), shown);
    }
    const each = renderValue('{{#each r.stdout_lines}}[{{this}}]{{/each}}', vars);
    assertNoLeak(renderedAgain(each, vars));
  });

  test('a var whose value refers to host output (task vars) is shown, not rendered', () => {
    const vars = { ...hostileVars(), via_vars: '{{ r.stdout }}', twice: 'got {{ via_vars }}' };
    const shown = renderString('{{ via_vars }} | {{ twice }}', vars);
    assertNoLeak(shown);
    assert.ok(shown.includes(`got ${EVIL_ENV}`), shown);
  });

  test('template helpers that make text from host output keep it unsafe', () => {
    const vars = hostileVars();
    for (const tpl of [
      '{{ trim r.stdout }}',
      '{{ replace r.stdout "no-such-text" "x" }}',
      '{{ regex_replace r.stdout "^nomatch$" "x" }}',
      '{{ join r.stdout_lines "," }}',
      '{{ default r.stdout "fallback" }}',
      '{{ concat "p-" r.stdout }}',
      '{{ string r.stdout }}',
      '{{ first r.stdout_lines }}',
    ]) {
      const shown = renderedAgain(renderValue(tpl, vars), vars);
      assertNoLeak(shown);
      assert.ok(shown.includes('PHX_CANARY') || shown.includes('hostvars.other.secret'), `${tpl}: ${shown}`);
    }
  });

  test('filters and methods that make text from host output keep it unsafe', () => {
    const vars = hostileVars();
    for (const expr of [
      'r.stdout | trim',
      "r.stdout | replace('no-such-text', 'x')",
      "r.stdout | regex_replace('^nomatch$', 'x')",
      "r.stdout_lines | join(',')",
      "r.stdout_lines + ['x']",
      'r.nothing | default(r.stdout)',
      "r.stdout | default('fallback')",
      'r.stdout | string',
      'r.stdout_lines | first',
      'r.stdout_lines | sort | last',
      "r.stdout.replace('no-such-text', 'x')",
      'r.stdout.strip()',
      "r.stdout.split('\\n')[0]",
      'r.stdout[0:40]',
      "{'k': r.stdout}",
      'r.stdout | to_json | from_json',
    ]) {
      const shown = renderedAgain(evaluateExpression(expr, vars), vars);
      assertNoLeak(shown);
      assert.ok(shown.includes('PHX_CANARY') || shown.includes('hostvars.other.secret'), `${expr}: ${shown}`);
    }
  });

  test('keys of host output are unsafe too', () => {
    const vars = { r: markUnsafe({ json: { [EVIL_ENV]: 1 } }) };
    assertNoLeak(renderString('{{#each r.json}}{{@key}}{{/each}}', vars));
    const items = evaluateExpression('r.json | dict2items', vars);
    assertNoLeak(renderedAgain(items, vars));
    assertNoLeak(renderString('{{ v }}', { ...vars, v: renderValue({ k: '{{ r.json }}' }, vars) }));
  });
});

describe('unsafe text behaves as a string', () => {
  test('comparisons, membership, length, tests, conversions and #if', () => {
    const vars = { r: markUnsafe({ stdout: '42', stdout_lines: ['a', 'b'], msg: 'Hello World' }) };
    assert.equal(evaluateCondition("r.stdout == '42'", vars), true);
    assert.equal(evaluateCondition("'2' in r.stdout", vars), true);
    assert.equal(evaluateCondition("'a' in r.stdout_lines", vars), true);
    assert.equal(evaluateCondition('r.stdout | length == 2', vars), true);
    assert.equal(evaluateCondition('r.stdout | int == 42', vars), true);
    assert.equal(evaluateCondition('r.stdout is string', vars), true);
    assert.equal(evaluateCondition("r.msg is search('World')", vars), true);
    assert.equal(evaluateCondition("r.msg.startswith('Hello')", vars), true);
    assert.equal(evaluateCondition("r.stdout > '4'", vars), true);
    assert.equal(evaluateCondition('r.stdout', vars), true);
    assert.equal(evaluateExpression('r.stdout_lines | length', vars), 2);
    assert.equal(renderValue('{{ int r.stdout }}', vars), 42);
    assert.equal(renderString('{{#if (eq r.stdout "42")}}yes{{/if}}', vars), 'yes');
    assert.equal(renderString('{{ length r.msg }}', vars), '11');
    assert.equal(String(evaluateExpression('r.msg | upper', vars)), 'HELLO WORLD');
    assert.equal(JSON.stringify(renderValue('{{ r.stdout_lines }}', vars)), '["a","b"]');
  });

  test('host output is never read as a condition or expression', () => {
    const vars = { r: markUnsafe({ stdout: "lookup('env', 'PHX_CANARY') == 'secret-canary-123'" }) };
    throwsPhx(() => evaluateCondition('{{ r.stdout }}', vars), /unsafe/);
    const text = renderValue('{{ r.stdout }}', vars) as string;
    throwsPhx(() => evaluateCondition(text, vars), /unsafe/);
    throwsPhx(() => evaluateExpression(text, vars), /unsafe/);
  });
});

describe('lookups, -e @file and !unsafe are data', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'phx-taint-'));
    writeFileSync(join(dir, 'evil.txt'), EVIL_ENV);
    writeFileSync(join(dir, 'extra.yml'), `evil: '${EVIL_ENV}'\nnested: { list: ['${EVIL_HOSTVARS}'] }\nport: 22\n`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('what lookup file and lookup env return is never rendered', () => {
    const vars = hostileVars();
    const fromFile = renderValue('{{ lookup "file" "evil.txt" }}', vars, { baseDir: dir });
    const shown = renderedAgain(fromFile, vars);
    assertNoLeak(shown);
    assert.ok(shown.includes(EVIL_ENV), shown);
    process.env.PHX_EVIL = EVIL_HOSTVARS;
    try {
      assertNoLeak(renderedAgain(evaluateExpression("lookup('env', 'PHX_EVIL')", vars), vars));
    } finally {
      delete process.env.PHX_EVIL;
    }
    // the canary itself can be read on purpose (a lookup in the playbook), and it is then shown as it is
    assert.equal(renderString('{{ lookup "env" "PHX_CANARY" }}', {}), CANARY);
  });

  test('-e @file values are never rendered; their numbers stay numbers', () => {
    const extra = parseExtraVars([`@${join(dir, 'extra.yml')}`]);
    const vars = { ...hostileVars(), ...extra };
    const shown = renderString('{{ evil }} {{ nested.list.[0] }} {{ json nested }}', vars);
    assertNoLeak(shown);
    assert.ok(shown.includes(EVIL_ENV) && shown.includes(EVIL_HOSTVARS), shown);
    assert.equal(renderValue('{{ port }}', vars), 22);
  });

  test('!unsafe strings (and lists and mappings) in YAML are never rendered', () => {
    const data = parseYaml(
      `plain: "{{ greeting }}"\nliteral: !unsafe '${EVIL_ENV}'\nlist: !unsafe ['${EVIL_HOSTVARS}']\n` +
        `map: !unsafe { k: '${EVIL_ENV}' }\n`,
      'vars.yml',
    ) as Record<string, unknown>;
    const vars = { ...hostileVars(), ...data };
    assert.equal(renderString('{{ plain }}', vars), 'hello');
    const shown = renderString('{{ literal }} {{ list.[0] }} {{ map.k }} {{ json list }}', vars);
    assertNoLeak(shown);
    assert.equal(renderString('{{ literal }}', vars), EVIL_ENV);
  });
});

test('the omit marker is new for every run: host output cannot name it to drop an argument', async () => {
  const { OMIT, dropOmitted } = await import('../src/executor/vars.js');
  assert.match(OMIT, /^__omit_place_holder__[0-9a-f]{40}$/);
  const fromHost = markUnsafe({ stdout: '__omit_place_holder__phx' }) as { stdout: unknown };
  assert.deepEqual(unwrapUnsafe(dropOmitted({ a: fromHost.stdout, b: OMIT })), { a: '__omit_place_holder__phx' });
});
