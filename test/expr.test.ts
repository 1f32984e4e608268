import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PhxError } from '../src/errors.js';
import { checkExpressionSyntax, evaluateCondition, evaluateExpression } from '../src/expr/index.js';
import { markUnsafe, unwrapUnsafe } from '../src/template/index.js';
import { locateValue, parseYaml } from '../src/yaml-source.js';
import { isUnsafeText } from '../src/unsafe.js';
import { throwsPhx } from './harness/throws-phx.js';

const vars: Record<string, unknown> = {
  a: 1,
  b: 2,
  s: 'Hello',
  t: true,
  f: false,
  n: null,
  zero: 0,
  l: [1, 2, 3],
  words: ['b', 'a', 'c', 'a'],
  d: { k: 'v', num: 5, nested: { deep: 'x' }, list: [10, 20] },
  emptyList: [],
  emptyDict: {},
  emptyStr: '',
  str5: '5',
  ok_result: { changed: false, failed: false, rc: 0, stdout: 'fine\nsecond', stdout_lines: ['fine', 'second'] },
  changed_result: { changed: true, failed: false },
  failed_result: { changed: false, failed: true, msg: 'boom' },
  skipped_result: { changed: false, skipped: true },
  loop_result: { changed: false, results: [{ changed: false }, { changed: true }, { failed: false }] },
  loop_failed: { results: [{ failed: false }, { failed: true }] },
  loop_skipped: { results: [{ skipped: true }, { skipped: true }] },
  users: [
    { name: 'ann', admin: true },
    { name: 'bob', admin: false },
  ],
};

const ev = (src: string, v: Record<string, unknown> = vars): unknown => evaluateExpression(src, v);
const when = (src: string | boolean | Array<string | boolean>, v: Record<string, unknown> = vars): boolean =>
  evaluateCondition(src, v);

describe('literals and access', () => {
  test('numbers, strings with escapes, booleans, none, lists, dicts', () => {
    assert.equal(ev('42'), 42);
    assert.equal(ev('3.5'), 3.5);
    assert.equal(ev('1_000'), 1000);
    assert.equal(ev(`'it\\'s'`), "it's");
    assert.equal(ev(`"tab\\tnew\\nline \\x41\\u00e9"`), 'tab\tnew\nline Aé');
    assert.equal(ev(`'\\d+'`), '\\d+');
    for (const [src, v] of [
      ['true', true],
      ['True', true],
      ['false', false],
      ['False', false],
      ['none', null],
      ['None', null],
      ['null', null],
    ] as const) {
      assert.equal(ev(src), v, src);
    }
    assert.deepEqual(ev(`[1, 'a', [true], ]`), [1, 'a', [true]]);
    assert.deepEqual(ev(`{'a': 1, "b": [2], 3: none}`), { a: 1, b: [2], '3': null });
    assert.deepEqual(ev('(1, 2)'), [1, 2]);
    assert.deepEqual(ev('[]'), []);
  });

  test('names, attributes, indexes, negative indexes, slices', () => {
    assert.equal(ev('d.k'), 'v');
    assert.equal(ev("d['k']"), 'v');
    assert.equal(ev('d.nested.deep'), 'x');
    assert.equal(ev('d["nested"]["deep"]'), 'x');
    assert.equal(ev('l[0]'), 1);
    assert.equal(ev('l.0'), 1);
    assert.equal(ev('d.list.1'), 20);
    assert.equal(ev('l[-1]'), 3);
    assert.equal(ev('s[0]'), 'H');
    assert.deepEqual(ev('l[1:]'), [2, 3]);
    assert.deepEqual(ev('l[:-1]'), [1, 2]);
    assert.equal(ev('s[1:3]'), 'el');
    assert.equal(ev('ok_result.stdout_lines[1]'), 'second');
    assert.equal(ev('users[1].name'), 'bob');
  });
});

describe('operators', () => {
  test('arithmetic like Python', () => {
    assert.equal(ev('1 + 2 * 3'), 7);
    assert.equal(ev('(1 + 2) * 3'), 9);
    assert.equal(ev('7 / 2'), 3.5);
    assert.equal(ev('7 // 2'), 3);
    assert.equal(ev('-7 // 2'), -4);
    assert.equal(ev('7 % 3'), 1);
    assert.equal(ev('-7 % 3'), 2);
    assert.equal(ev('2 ** 10'), 1024);
    assert.equal(ev('-a + 5'), 4);
    assert.equal(ev('- - 2'), 2);
    assert.equal(ev("'ab' + 'cd'"), 'abcd');
    assert.deepEqual(ev('l + [4]'), [1, 2, 3, 4]);
    assert.equal(ev("'-' * 3"), '---');
    assert.equal(ev('t + 1'), 2);
    throwsPhx(() => ev('1 / 0'), /division by zero/);
    throwsPhx(() => ev("'a' + 1"), /cannot add string and number \(use ~/);
    throwsPhx(() => ev("str5 * 'x'"), /needs a number, got string/);
  });

  test('~ concatenates as text', () => {
    assert.equal(ev("'v' ~ a ~ '-' ~ t ~ n"), 'v1-TrueNone');
    // `~` binds tighter than `+` (Jinja): 1 + ('2' ~ '3') adds a number and a string
    throwsPhx(() => ev('1 + 2 ~ 3'), /cannot add number and string/);
    assert.equal(ev('(1 + 2) ~ 3'), '33');
  });

  test('comparisons, chained; equality is structural', () => {
    assert.equal(ev('a == 1'), true);
    assert.equal(ev('a != 1'), false);
    assert.equal(ev('a < b'), true);
    assert.equal(ev('a <= 1'), true);
    assert.equal(ev('b > a'), true);
    assert.equal(ev('b >= 3'), false);
    assert.equal(ev('1 < a + 1 < 3'), true);
    assert.equal(ev('3 > b > 2'), false);
    assert.equal(ev("'abc' < 'abd'"), true);
    assert.equal(ev('l == [1, 2, 3]'), true);
    assert.equal(ev("d.nested == {'deep': 'x'}"), true);
    assert.equal(ev('1 == 1.0'), true);
    assert.equal(ev('str5 == 5'), false);
    assert.equal(ev('[1, 2] < [1, 3]'), true);
    throwsPhx(() => ev('str5 > 3'), /'>' not supported between string and number/);
    throwsPhx(() => ev('n < 1'), /not supported between none and number/);
  });

  test('in and not in over strings, lists, mappings', () => {
    assert.equal(ev("'ell' in s"), true);
    assert.equal(ev('2 in l'), true);
    assert.equal(ev('5 not in l'), true);
    assert.equal(ev("'k' in d"), true);
    assert.equal(ev("'zz' not in d"), true);
    assert.equal(ev("{'name': 'ann', 'admin': true} in users"), true);
    throwsPhx(() => ev('1 in a'), /'in' needs a string, list or mapping/);
  });

  test('and / or / not return like Python and short-circuit', () => {
    assert.equal(ev('a and b'), 2);
    assert.equal(ev('zero or s'), 'Hello');
    assert.equal(ev('emptyList or emptyStr'), '');
    assert.equal(ev('not emptyDict'), true);
    assert.equal(ev('missing is defined and missing > 1'), false);
    assert.equal(ev('missing is undefined or missing > 1'), true);
  });

  test('precedence: not binds looser than ==, and tighter than or', () => {
    assert.equal(ev('not a == 2'), true);
    assert.equal(ev('not (a == 1)'), false);
    assert.equal(ev('t or f and f'), true); // t or (f and f)
    assert.equal(ev('(t or f) and f'), false);
    assert.equal(ev('not f and f'), false); // (not f) and f
    assert.equal(ev('not t or t'), true); // (not t) or t
    assert.equal(ev('a + 1 == 2 and b * 2 == 4'), true);
    assert.equal(ev('l | length + 1'), 4); // filters bind tightest
    assert.equal(ev('-(l | length)'), -3);
    throwsPhx(() => ev('-l | length'), /'-' needs a number, got list/); // like Jinja: (-l) | length
  });

  test('conditional expression', () => {
    assert.equal(ev("'big' if a > 5 else 'small'"), 'small');
    assert.equal(ev("'big' if b > 1 else 'small'"), 'big');
    assert.equal(ev("'x' if f"), null);
  });
});

describe('tests', () => {
  test('defined / undefined, including attributes of undefined', () => {
    assert.equal(ev('a is defined'), true);
    assert.equal(ev('nope is defined'), false);
    assert.equal(ev('nope is undefined'), true);
    assert.equal(ev('nope is not defined'), true);
    assert.equal(ev('nope.x.y is defined'), false);
    assert.equal(ev('d.missing is defined'), false);
    assert.equal(ev('d.k is defined'), true);
    assert.equal(ev('n.x is defined'), false);
    assert.equal(ev('l[10] is undefined'), true);
    assert.equal(ev('n is defined'), true);
  });

  test('a JS undefined value counts as not defined', () => {
    assert.equal(ev('u is defined', { u: undefined }), false);
    assert.equal(ev('u | default(3)', { u: undefined }), 3);
    throwsPhx(() => ev('u == 1', { u: undefined }), /undefined variable 'u'/);
  });

  test('result tests: succeeded, failed, changed, skipped and aliases, loops', () => {
    assert.equal(ev('ok_result is succeeded'), true);
    assert.equal(ev('ok_result is success'), true);
    assert.equal(ev('ok_result is not failed'), true);
    assert.equal(ev('failed_result is failed'), true);
    assert.equal(ev('failed_result is failure'), true);
    assert.equal(ev('failed_result is succeeded'), false);
    assert.equal(ev('changed_result is changed'), true);
    assert.equal(ev('changed_result is change'), true);
    assert.equal(ev('ok_result is changed'), false);
    assert.equal(ev('skipped_result is skipped'), true);
    assert.equal(ev('skipped_result is skip'), true);
    assert.equal(ev('ok_result is skipped'), false);
    assert.equal(ev('loop_result is changed'), true);
    assert.equal(ev('loop_result is failed'), false);
    assert.equal(ev('loop_failed is failed'), true);
    assert.equal(ev('loop_failed is succeeded'), false);
    assert.equal(ev('loop_skipped is skipped'), true);
    assert.equal(ev('loop_result is skipped'), false);
    throwsPhx(() => ev('s is failed'), /'failed' test expects a registered task result \(a mapping\), got string/);
    throwsPhx(() => ev('nope is changed'), /undefined variable 'nope'/);
  });

  test('type tests', () => {
    assert.equal(ev('s is string'), true);
    assert.equal(ev('a is string'), false);
    assert.equal(ev('a is number'), true);
    assert.equal(ev('3.5 is float and 3 is integer'), true);
    assert.equal(ev('t is boolean'), true);
    assert.equal(ev('d is mapping'), true);
    assert.equal(ev('l is mapping'), false);
    assert.equal(ev('l is iterable and s is iterable and d is iterable'), true);
    assert.equal(ev('a is iterable'), false);
    assert.equal(ev('n is none'), true);
    assert.equal(ev('a is not none'), true);
    assert.equal(ev('emptyList is falsy'), true);
    assert.equal(ev('s is truthy'), true);
  });

  test('value tests with arguments', () => {
    assert.equal(ev('4 is even and 3 is odd'), true);
    assert.equal(ev('9 is divisibleby 3'), true);
    assert.equal(ev('9 is divisibleby(4)'), false);
    assert.equal(ev("s is match('He')"), true);
    assert.equal(ev("s is match('ello')"), false);
    assert.equal(ev("s is search('ll')"), true);
    assert.equal(ev('2 is in l'), true);
    assert.equal(ev('a is eq 1'), true);
    assert.equal(ev("'12.0.3' is version('12.0', '>=')"), true);
    assert.equal(ev("'8.4.1' is version('8.10', '<')"), true);
    assert.equal(ev("'7.1' is version('7.1.0', '==')"), true);
  });
});

describe('filters', () => {
  test('default (and d) see undefined, including missing attributes', () => {
    assert.equal(ev('nope | default(5)'), 5);
    assert.equal(ev('nope | d(5)'), 5);
    assert.equal(ev('a | default(5)'), 1);
    assert.equal(ev('nope.x.y | default("z")'), 'z');
    assert.equal(ev('d.missing | default(none) is none'), true);
    assert.equal(ev("emptyStr | default('x')"), '');
    assert.equal(ev("emptyStr | default('x', true)"), 'x');
    assert.equal(ev('nope | default'), '');
    throwsPhx(() => ev('nope | mandatory'), /mandatory variable 'nope' is not defined/);
  });

  // lib/ansible/plugins/filter/core.py subelements: (element, item) pairs; skip_missing skips elements without the key
  test('subelements pairs each element with each item of its dotted key', () => {
    const users = [
      { name: 'a', keys: { ssh: ['k1', 'k2'] } },
      { name: 'b', keys: {} },
    ];
    assert.deepEqual(ev("users | subelements('keys.ssh', skip_missing=True)", { users }), [
      [users[0], 'k1'],
      [users[0], 'k2'],
    ]);
    assert.deepEqual(ev("users | subelements(['keys', 'ssh'], True) | map(attribute='1') | list", { users }), [
      'k1',
      'k2',
    ]);
    throwsPhx(() => ev("users | subelements('keys.ssh')", { users }), /could not find 'ssh' key/);
    throwsPhx(() => ev("users | subelements('name')", { users }), /should point to a list/);
    throwsPhx(() => ev("5 | subelements('x')"), /obj must be a list of dicts or a nested dict/);
  });

  test('bool follows Ansible', () => {
    for (const v of ['yes', 'Yes', 'on', '1', 'true', 'True', 'y', 't', 1, true])
      assert.equal(ev('v | bool', { v }), true, String(v));
    for (const v of ['no', 'off', '0', 'false', 'n', '', 'whatever', 0, 2, false, null])
      assert.equal(ev('v | bool', { v }), false, String(v));
  });

  test('int, float, string, length, lower, upper, trim', () => {
    assert.equal(ev("'42' | int"), 42);
    assert.equal(ev("'4.7' | int"), 4);
    assert.equal(ev("'abc' | int"), 0);
    assert.equal(ev("'abc' | int(7)"), 7);
    assert.equal(ev("'0x1f' | int(base=16)"), 31);
    assert.equal(ev("'2.5' | float * 2"), 5);
    assert.equal(ev('a | string'), '1');
    assert.equal(ev('t | string'), 'True');
    assert.equal(ev('n | string'), 'None');
    assert.equal(ev('l | length'), 3);
    assert.equal(ev('s | length'), 5);
    assert.equal(ev('d | length'), 4);
    assert.equal(ev('l | count'), 3);
    assert.equal(ev('s | lower'), 'hello');
    assert.equal(ev('s | upper'), 'HELLO');
    assert.equal(ev("'  x ' | trim"), 'x');
    assert.equal(ev('t | string | lower'), 'true');
    throwsPhx(() => ev('a | length'), /length expects a string, list or mapping, got number/);
  });

  test('list and text filters', () => {
    assert.equal(ev("l | join(',')"), '1,2,3');
    assert.equal(ev('l | first'), 1);
    assert.equal(ev('l | last'), 3);
    assert.equal(ev('emptyList | first is undefined'), true);
    assert.deepEqual(ev('words | unique'), ['b', 'a', 'c']);
    assert.deepEqual(ev('words | sort'), ['a', 'a', 'b', 'c']);
    assert.deepEqual(ev('words | sort(reverse=true) | first'), 'c');
    assert.equal(ev('l | min'), 1);
    assert.equal(ev('l | max'), 3);
    assert.equal(ev('l | sum'), 6);
    assert.deepEqual(ev('[[1, [2]], 3] | flatten'), [1, 2, 3]);
    assert.deepEqual(ev("users | selectattr('admin') | map(attribute='name') | list"), ['ann']);
    assert.deepEqual(ev("users | rejectattr('admin') | map(attribute='name') | list"), ['bob']);
    assert.deepEqual(ev("users | selectattr('name', 'equalto', 'bob') | list | length"), 1);
    assert.deepEqual(ev("words | select('match', 'a') | list"), ['a', 'a']);
    assert.deepEqual(ev("words | reject('eq', 'a') | list"), ['b', 'c']);
    assert.deepEqual(ev("l | map('string') | list"), ['1', '2', '3']);
    assert.deepEqual(ev("'a,b' | split(',')"), ['a', 'b']);
    assert.equal(ev("'a-b-c' | replace('-', '+')"), 'a+b+c');
    assert.equal(ev("'pve-01' | regex_replace('^pve-(\\\\d+)$', 'node\\\\1')"), 'node01');
    assert.equal(ev("'abc123' | regex_search('\\\\d+')"), '123');
    assert.equal(ev("'abc' | regex_search('\\\\d+')"), null);
    assert.equal(ev("'/a/b.txt' | basename"), 'b.txt');
    assert.equal(ev("'/a/b.txt' | dirname"), '/a');
    assert.equal(ev('d.nested | to_json'), '{"deep": "x"}'); // Python's json.dumps separators
    assert.deepEqual(ev(`'{"x": [1]}' | from_json`), { x: [1] });
    assert.equal(ev("t | ternary('on', 'off')"), 'on');
    assert.deepEqual(ev("{'a': 1} | combine({'b': 2})"), { a: 1, b: 2 });
    assert.deepEqual(ev("{'a': 1} | dict2items"), [{ key: 'a', value: 1 }]);
    assert.equal(ev(`"it's" | quote`), `'it'\\''s'`);
  });

  test('filters on undefined input fail naming the variable, except default', () => {
    throwsPhx(() => ev('nope | length'), /undefined variable 'nope'/);
    throwsPhx(() => ev('nope | bool'), /undefined variable 'nope'/);
  });
});

describe('methods and functions', () => {
  test('string and mapping methods', () => {
    assert.equal(ev("s.startswith('He')"), true);
    assert.equal(ev("s.endswith(('x', 'lo'))"), true);
    assert.equal(ev("'  a '.strip()"), 'a');
    assert.deepEqual(ev("'a b  c'.split()"), ['a', 'b', 'c']);
    assert.deepEqual(ev('ok_result.stdout.splitlines()'), ['fine', 'second']);
    assert.equal(ev("s.find('l')"), 2);
    assert.equal(ev('s.lower().upper()'), 'HELLO');
    assert.equal(ev("d.get('k')"), 'v');
    assert.equal(ev("d.get('zz', 'dflt')"), 'dflt');
    assert.deepEqual(ev('d.nested.keys()'), ['deep']);
    assert.equal(ev("','.join(['a', 'b'])"), 'a,b');
    throwsPhx(() => ev('l.startswith(1)'), /a list has no method 'startswith\(\)'/);
  });

  test('lookup env and file', () => {
    process.env.PHX_EXPR_TEST = 'on';
    const dir = mkdtempSync(join(tmpdir(), 'phx-expr-'));
    try {
      writeFileSync(join(dir, 'flag'), 'enabled\n');
      assert.equal(evaluateCondition("lookup('env', 'PHX_EXPR_TEST') == 'on'", {}), true);
      assert.equal(evaluateCondition("lookup('file', 'flag') == 'enabled'", {}, { baseDir: dir }), true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      delete process.env.PHX_EXPR_TEST;
    }
  });

  test('range', () => {
    assert.deepEqual(ev('range(3)'), [0, 1, 2]);
    assert.deepEqual(ev('range(1, 7, 2)'), [1, 3, 5]);
  });
});

describe('evaluateCondition', () => {
  test('truthiness like Python', () => {
    for (const falsy of ['emptyStr', 'emptyList', 'emptyDict', 'zero', 'n', 'f', '0', "''", '[]', '{}', '0.0']) {
      assert.equal(when(falsy), false, falsy);
    }
    for (const truthy of ['s', 'l', 'd', 'a', 't', "'0'", "'false'", '[0]', '-1'])
      assert.equal(when(truthy), true, truthy);
  });

  test('booleans, lists (all must hold), empty', () => {
    assert.equal(when(true), true);
    assert.equal(when(false), false);
    assert.equal(when(['a == 1', 'b == 2', true]), true);
    assert.equal(when(['a == 1', 'b == 3']), false);
    // later items are not evaluated once one is false (so they may rely on the earlier ones)
    assert.equal(when(['nope is defined', 'nope.x == 1']), false);
    assert.equal(when([]), true);
    assert.equal(when(''), true);
  });

  test('a whole-condition {{ }} is accepted; a string result is read like Ansible', () => {
    assert.equal(when('{{ a == 1 }}'), true);
    assert.equal(when('{{ a == 2 }}'), false);
    assert.equal(when('{{ flag }}', { flag: 'false' }), false);
    assert.equal(when('{{ flag }}', { flag: 'yes' }), true);
    assert.equal(when('{{ flag }}', { flag: 'a == 1', a: 1 }), true);
    assert.equal(when('  {{- t -}}  '), true);
    // {{ }} inside: rendered first, then evaluated, with Ansible's warning (Conditional._check_conditional)
    const warnings: string[] = [];
    const warn = (m: string): number => warnings.push(m);
    assert.equal(evaluateCondition("x == '{{ b }}'", { x: 'q', b: 'q' }, { warn }), true);
    assert.equal(evaluateCondition('a == {{ b }}', { a: 1, b: 1 }, { warn }), true);
    assert.equal(evaluateCondition("a == '{{ b }}'", { a: 1, b: 1 }, { warn }), false); // 1 == '1' is false
    assert.match(warnings[0], /should not include jinja2 templating delimiters/);
    assert.equal(warnings.length, 3);
  });

  test('undefined variables are errors naming them; attributes of undefined too', () => {
    throwsPhx(() => when('nope == 1'), /undefined variable 'nope' in condition "nope == 1"/);
    throwsPhx(() => when('nope'), /undefined variable 'nope'/);
    throwsPhx(() => when('nope.x == 1'), /undefined variable 'nope'/);
    throwsPhx(() => when('d.missing == 1'), /undefined variable 'd\.missing' \('d' has no key 'missing'\)/);
    throwsPhx(() => when('not nope'), /'nope'/);
    throwsPhx(() => when('t and nope'), /'nope'/);
    throwsPhx(() => when('l[9] == 1'), /'l\[9\]'.*list of 3 items/);
    const e = throwsPhx(
      () => evaluateCondition('a == 1 and nope', vars, { task: 'Check it', loc: { file: 'x.yml', line: 4, col: 11 } }),
      /in task "Check it"/,
    );
    assert.deepEqual(e.loc, { file: 'x.yml', line: 4, col: 11 + 'a == 1 and '.length });
  });

  test('lazy vars: template values resolve when used, loops are detected', () => {
    const v = {
      base: 'pve',
      name: '{{ base }}-01',
      count: '{{ n }}',
      n: 3,
      loop: '{{ loop }}',
      cfg: { host: '{{ name }}.lan' },
    };
    assert.equal(evaluateCondition("name == 'pve-01'", v), true);
    assert.equal(evaluateCondition('count == 3', v), true);
    assert.equal(evaluateCondition("cfg.host == 'pve-01.lan'", v), true);
    assert.equal(evaluateCondition("cfg == {'host': 'pve-01.lan'}", v), true);
    throwsPhx(() => evaluateCondition('loop == 1', v), /recursive loop detected in template for var loop/);
  });
});

describe('unsafe data', () => {
  test('registered results marked unsafe are compared as they are', () => {
    const v = { out: markUnsafe({ stdout: '{{ oops }}', results: [{ item: '{{ x }}' }] }) };
    assert.equal(evaluateCondition("out.stdout.startswith('{' ~ '{ oops')", v), true);
    assert.equal(evaluateCondition("'{{' in out.stdout", v), true);
    // unsafe text stays UnsafeText (src/unsafe.ts): compared as plain data
    assert.equal(unwrapUnsafe(evaluateExpression("out.results[0]['item']", v)), '{{ x }}');
    assert.equal(unwrapUnsafe(evaluateExpression("out.results | map(attribute='item') | first", v)), '{{ x }}');
  });
});

describe('syntax errors', () => {
  test('messages say what was expected after what', () => {
    throwsPhx(() => checkExpressionSyntax('(a == 1'), /expected '\)' after "\(a == 1"/);
    throwsPhx(() => checkExpressionSyntax('a =='), /expected a value after '=='/);
    throwsPhx(() => checkExpressionSyntax('a b'), /unexpected 'b' \(a missing operator/);
    throwsPhx(() => checkExpressionSyntax("'abc"), /unterminated string/);
    throwsPhx(() => checkExpressionSyntax('a && b'), /use 'and'/);
    throwsPhx(() => checkExpressionSyntax('a || b'), /use 'or'/);
    throwsPhx(() => checkExpressionSyntax('!a'), /use 'not'/);
    throwsPhx(() => checkExpressionSyntax('a === 1'), /use '=='/);
    throwsPhx(() => checkExpressionSyntax('a = 1'), /use '==' to compare/);
    throwsPhx(() => checkExpressionSyntax('a is'), /expected a test name/);
    throwsPhx(() => checkExpressionSyntax('x | nosuchfilter'), /unknown filter 'nosuchfilter'/);
    throwsPhx(() => checkExpressionSyntax('x is nosuchtest'), /unknown test 'nosuchtest'/);
    throwsPhx(() => checkExpressionSyntax('system("id")'), /unknown function 'system'/);
    throwsPhx(() => checkExpressionSyntax('x.__class__()'), /unknown method/);
    throwsPhx(() => checkExpressionSyntax(''), /empty expression/);
    throwsPhx(() => checkExpressionSyntax('[1, 2'), /expected ']'/);
    throwsPhx(() => checkExpressionSyntax("{'a' 1}"), /expected ':'/);
    throwsPhx(() => checkExpressionSyntax('a and'), /expected a value after 'and'/);
    throwsPhx(() => checkExpressionSyntax('12abc'), /invalid number/);
    throwsPhx(() => checkExpressionSyntax('a $ b'), /unexpected character "\$"/);
    assert.doesNotThrow(() =>
      checkExpressionSyntax("x is defined and x.y | default('z') in ['a', 'z'] or not (q is failed)"),
    );
  });

  test('the column of the error inside the expression is added to the location', () => {
    const e = throwsPhx(() => checkExpressionSyntax('a == (b', { file: 'p.yml', line: 5, col: 11 }), /expected '\)'/);
    assert.deepEqual(e.loc, { file: 'p.yml', line: 5, col: 11 + 'a == (b'.length });
    const e2 = throwsPhx(
      () => checkExpressionSyntax('{{ a $ }}', { file: 'p.yml', line: 5, col: 11 }),
      /unexpected character/,
    );
    assert.deepEqual(e2.loc, { file: 'p.yml', line: 5, col: 11 + '{{ a '.length });
  });

  test('exact column in a quoted YAML scalar', () => {
    const text = '- name: t\n  when: "x == 1 and y == (2"\n';
    const doc = parseYaml(text, '/virtual/when.yml') as Array<Record<string, unknown>>;
    const loc = locateValue(doc[0], 'when');
    const e = throwsPhx(
      () => checkExpressionSyntax(doc[0].when as string, loc),
      /expected '\)' after "x == 1 and y == \(2"/,
    );
    assert.deepEqual(e.loc, { file: '/virtual/when.yml', line: 2, col: text.split('\n')[1].length });
  });

  test('syntax errors are reported by evaluateCondition too, with the condition', () => {
    throwsPhx(() => when('a =='), /invalid condition "a ==": expected a value/);
  });
});

describe('no code execution, no JS internals', () => {
  test('constructor / __proto__ / prototype are refused everywhere', () => {
    throwsPhx(() => ev("constructor.constructor('return 1')()"), /unknown method 'constructor\(\)'/);
    throwsPhx(() => ev('constructor'), /access to 'constructor' is not allowed/);
    throwsPhx(() => ev('d.constructor'), /access to 'constructor' is not allowed/);
    throwsPhx(() => ev("d['constructor']"), /not allowed/);
    throwsPhx(() => ev("d['__proto__']"), /not allowed/);
    throwsPhx(() => ev('d.__proto__ is defined'), /not allowed/);
    throwsPhx(() => ev("s['constructor']"), /not allowed/);
    throwsPhx(() => ev('l.prototype'), /not allowed/);
    throwsPhx(() => ev("{'__proto__': 1}"), /not allowed/);
    throwsPhx(() => ev("d | map(attribute='constructor') | list"), /not allowed/);
  });

  test('Object.prototype names are not literals, filters, tests or functions', () => {
    assert.equal(ev('toString is defined'), false);
    throwsPhx(() => ev('valueOf'), /undefined variable 'valueOf'/);
    throwsPhx(() => checkExpressionSyntax('a | constructor'), /unknown filter 'constructor'/);
    throwsPhx(() => checkExpressionSyntax('a | toString'), /unknown filter 'toString'/);
    throwsPhx(() => checkExpressionSyntax('a is hasOwnProperty'), /unknown test 'hasOwnProperty'/);
    throwsPhx(() => checkExpressionSyntax("valueOf('x')"), /unknown function 'valueOf'/);
    throwsPhx(() => ev("'1.0' is version('1.0', 'constructor')"), /unknown operator/);
    throwsPhx(() => ev("l | map('constructor') | list"), /unknown filter 'constructor'/);
    throwsPhx(() => ev("l | select('constructor') | list"), /unknown test 'constructor'/);
  });

  test('JS members and methods are not reachable', () => {
    throwsPhx(() => ev('d.toString'), /undefined variable 'd\.toString'/);
    throwsPhx(() => ev('d.valueOf()'), /unknown method/);
    throwsPhx(() => ev("s.constructor('x')"), /unknown method/);
    throwsPhx(() => ev('d.hasOwnProperty("k")'), /unknown method/);
    assert.equal(ev('toString is defined'), false);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});

describe('robustness', () => {
  test('random token soup gives a value or a PhxError, never a crash', () => {
    let seed = 7;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const toks = [
      'a',
      'l',
      'd',
      '1',
      '-1',
      "'x'",
      '(',
      ')',
      '[',
      ']',
      '{',
      '}',
      ',',
      ':',
      '.',
      '|',
      'is',
      'not',
      'in',
      'and',
      'or',
      'if',
      'else',
      '==',
      '<',
      '+',
      '-',
      '*',
      '/',
      '//',
      '%',
      '**',
      '~',
      'length',
      'default',
      'defined',
      'none',
      'int',
      'split',
      'constructor',
      '__proto__',
      'keys',
      '=',
    ];
    const v = { a: 1, l: [1, 2], d: { k: '{{ a }}' } };
    for (let i = 0; i < 5000; i++) {
      const src = Array.from({ length: 1 + Math.floor(rnd() * 8) }, () => toks[Math.floor(rnd() * toks.length)]).join(
        ' ',
      );
      try {
        evaluateExpression(src, v);
      } catch (e) {
        assert.ok(e instanceof PhxError, `${JSON.stringify(src)}: ${String(e)}`);
      }
    }
  });
});

describe('cache', () => {
  test('the same source evaluates against different vars', () => {
    assert.equal(evaluateExpression('x + 1', { x: 1 }), 2);
    assert.equal(evaluateExpression('x + 1', { x: 41 }), 42);
  });
});

test("q()/query() keep the lookup's list: dict gives {key, value} items, marked unsafe as lookups are", () => {
  const v = { users: { root: ['x', '0'], bob: ['x', '1000'] } };
  const items = evaluateExpression("q('dict', users)", v) as unknown[];
  assert.deepEqual(unwrapUnsafe(items), [
    { key: 'root', value: ['x', '0'] },
    { key: 'bob', value: ['x', '1000'] },
  ]);
  assert.ok(isUnsafeText((items[0] as { key: unknown }).key), 'the key is unsafe text, not a plain string');
  assert.deepEqual(unwrapUnsafe(evaluateExpression("query('dict', users) | map(attribute='key') | list", v)), [
    'root',
    'bob',
  ]);
  throwsPhx(() => evaluateExpression("q('dict', ['a'])", v), /with_dict expects a dict/);
  process.env.PHX_EXPR_TEST = 'on';
  try {
    assert.deepEqual(unwrapUnsafe(evaluateExpression("q('env', 'PHX_EXPR_TEST', 'PHX_EXPR_UNSET')", {})), ['on', '']);
  } finally {
    delete process.env.PHX_EXPR_TEST;
  }
});
