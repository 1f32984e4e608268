// Ansible's template syntax in phx-play templates (issue 15 items 1-3 and 8):
// expressions inside {{ }} read by src/expr, Jinja statements, whitespace
// control as Ansible configures Jinja (trim_blocks=True, lstrip_blocks=False),
// mixing with Handlebars, typed results, located errors, unsafe data.
// Semantics pinned against Jinja2 (pallets/jinja src/jinja2/lexer.py: trim_blocks
// eats the newline after a block/comment tag, not after {{ }}; `-` strips all
// whitespace; raw_begin has no trim suffix, endraw has) and Ansible
// (lib/ansible/template/__init__.py: preserve_trailing_newlines; ansible_eval_concat:
// a template with anything besides the one expression yields text;
// lib/ansible/playbook/conditional.py: a condition is templated first, with a warning).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { evaluateCondition } from '../src/expr/index.js';
import {
  UnsafeText,
  checkTemplateSyntax,
  markUnsafe,
  renderString,
  renderValue,
  unwrapUnsafe,
} from '../src/template/index.js';
import { throwsPhx } from './harness/throws-phx.js';
import { localInventory, runCli, workspace } from './helpers/cli.js';

const vars = {
  name: 'web',
  x: 'abc',
  n: 3,
  f: '2.5',
  on: true,
  names: ['b', 'a', 'c'],
  nums: [3, 1, 2],
  d: { k: 'v', 'a b': 1 },
  users: [
    { name: 'ann', admin: true, uid: 1 },
    { name: 'bob', admin: false, uid: 2 },
  ],
  nothing: null,
  path: '/etc/app/app.conf',
  csv: 'a,b,,c',
  padded: '  hi  ',
  lazy: '{{ x | upper }}-z',
  version: '8.2.4',
  inventory_hostname: 'pve1',
  ok: { changed: false, failed: false },
  bad: { changed: true, failed: true },
  skipped_r: { skipped: true, changed: false },
};

const r = (t: string, v: Record<string, unknown> = vars): unknown => renderValue(t, v);
const s = (t: string, v: Record<string, unknown> = vars): string => renderString(t, v);

describe('Ansible expressions inside {{ }}', () => {
  test('operators, literals, subscripts, calls and conditionals', () => {
    assert.equal(r("{{ x ~ '-' ~ n }}"), 'abc-3');
    assert.equal(r("{{ x if on else 'no' }}"), 'abc');
    assert.equal(r("{{ 'yes' if nothing else 'no' }}"), 'no');
    assert.deepEqual(r('{{ [1, 2] + nums }}'), [1, 2, 3, 1, 2]);
    assert.deepEqual(r("{{ {'a': n, 'b': [x]} }}"), { a: 3, b: ['abc'] });
    assert.equal(r("{{ d['k'] }}"), 'v');
    assert.equal(r("{{ d['a b'] }}"), 1);
    assert.equal(r('{{ d[name[0:0] ~ "k"] }}'), 'v');
    assert.equal(r('{{ names[-1] }}'), 'c');
    assert.equal(r('{{ n * 2 + 1 }}'), 7);
    assert.equal(r('{{ n // 2 }}'), 1);
    assert.equal(r('{{ n ** 2 }}'), 9);
    // Jinja's lexer reads `-` as an operator even without spaces (lexer.py operators): a subtraction
    assert.equal(r('{{ n-1 }}'), 2);
    assert.equal(r('{{ nums|length-1 }}'), 2);
    assert.equal(r('{{ d.k }}-{{ n-n }}'), 'v-0');
    throwsPhx(() => r('{{ system-n }}'), /undefined variable 'system'/);
    assert.deepEqual(r("{{ csv.split(',') }}"), ['a', 'b', '', 'c']);
    process.env.PHX_JINJA_TEST = 'from-env';
    try {
      const v = r("{{ lookup('env', 'PHX_JINJA_TEST') }}");
      assert.ok(v instanceof UnsafeText);
      assert.equal(unwrapUnsafe(v), 'from-env');
    } finally {
      delete process.env.PHX_JINJA_TEST;
    }
    assert.equal(r('{{ not on }}'), false);
    assert.equal(r('{{ n > 2 and x is string }}'), true);
  });

  test('filters real playbooks use most', () => {
    const cases: Array<[string, unknown]> = [
      ["{{ missing | default('y') }}", 'y'],
      ["{{ nothing | default('y', true) }}", 'y'],
      ["{{ missing | d('z') }}", 'z'],
      ["{{ names | join(',') }}", 'b,a,c'],
      ['{{ "42" | int + 1 }}', 43],
      ['{{ f | float }}', 2.5],
      ["{{ 'yes' | bool }}", true],
      ['{{ n | string }}', '3'],
      ['{{ names | length }}', 3],
      ["{{ 'AbC' | lower }}", 'abc'],
      ['{{ x | upper }}', 'ABC'],
      ['{{ padded | trim }}', 'hi'],
      ["{{ path | replace('app', 'web') }}", '/etc/web/web.conf'],
      ["{{ name | regex_replace('^w(.)', 'W\\\\1') }}", 'Web'],
      ["{{ version | regex_search('^\\\\d+') }}", '8'],
      ["{{ csv | split(',') }}", ['a', 'b', '', 'c']],
      ['{{ path | basename }}', 'app.conf'],
      ['{{ path | dirname }}', '/etc/app'],
      ['{{ "it\'s" | quote }}', "'it'\\''s'"],
      ['{{ d | to_json }}', '{"k": "v", "a b": 1}'],
      ["{{ {'b': [1, 'é'], 'a': {}} | to_json }}", '{"b": [1, "\\u00e9"], "a": {}}'],
      [
        "{{ {'b': [1, 2], 'a': none} | to_nice_json }}",
        '{\n    "a": null,\n    "b": [\n        1,\n        2\n    ]\n}',
      ],
      ['{{ [] | to_nice_json(indent=2) }}', '[]'],
      ['{{ \'{"a": 1}\' | from_json }}', { a: 1 }],
      ["{{ 'a: [1]' | from_yaml }}", { a: [1] }],
      ["{{ {'a': 1} | to_yaml }}", 'a: 1'],
      ["{{ {'a': 1} | combine({'b': 2}) }}", { a: 1, b: 2 }],
      ["{{ {'a': 1} | dict2items }}", [{ key: 'a', value: 1 }]],
      ["{{ [{'key': 'a', 'value': 1}] | items2dict }}", { a: 1 }],
      ["{{ users | map(attribute='name') | list }}", ['ann', 'bob']],
      ["{{ names | map('upper') | list }}", ['B', 'A', 'C']],
      ["{{ names | select('match', '^[ab]') | list }}", ['b', 'a']],
      ["{{ names | reject('equalto', 'a') | list }}", ['b', 'c']],
      ["{{ users | selectattr('admin') | map(attribute='name') | first }}", 'ann'],
      ["{{ users | rejectattr('admin') | map(attribute='name') | first }}", 'bob'],
      ['{{ [1, 1, 2] | unique }}', [1, 2]],
      // mathstuff.py on lists: the input's order, no duplicates
      ["{{ ['c', 'a', 'b', 'a'] | difference(['b']) }}", ['c', 'a']],
      ['{{ [3, 1, 2] | intersect([2, 3, 4]) }}', [3, 2]],
      ['{{ [1, 2] | union([2, 3, 1]) }}', [1, 2, 3]],
      ['{{ [1, 2, 3] | symmetric_difference([3, 4]) }}', [1, 2, 4]],
      ['{{ nums | sort }}', [1, 2, 3]],
      ['{{ nums | first }}', 3],
      ['{{ nums | last }}', 2],
      ['{{ nums | min }}', 1],
      ['{{ nums | max }}', 3],
      ['{{ nums | sum }}', 6],
      ['{{ [[1, [2]], 3] | flatten }}', [1, 2, 3]],
      [
        '{{ names | zip(nums) | list }}',
        [
          ['b', 3],
          ['a', 1],
          ['c', 2],
        ],
      ],
      ["{{ on | ternary('y', 'n') }}", 'y'],
      ["{{ 'abc' | hash('sha1') }}", 'a9993e364706816aba3e25717850c26c9cd0d89d'],
      ["{{ 'abc' | hash('md5') }}", '900150983cd24fb0d6963f7d28e17f72'],
      ["{{ 'hi' | b64encode }}", 'aGk='],
      ["{{ 'aGk=' | b64decode }}", 'hi'],
      ['{{ n | type_debug }}', 'int'],
      ['{{ names | type_debug }}', 'list'],
      ['{{ d | type_debug }}', 'dict'],
      ['{{ nothing | type_debug }}', 'NoneType'],
      ['{{ x | mandatory }}', 'abc'],
    ];
    for (const [t, want] of cases) assert.deepEqual(r(t), want, t);
    assert.equal(r("{{ '~/x' | expanduser }}"), `${homedir()}/x`);
    throwsPhx(() => r('{{ missing | mandatory }}'), /mandatory variable 'missing' is not defined/);
    throwsPhx(() => r("{{ 'a' | hash('nope') }}"), /unknown hash type 'nope'/);
  });

  test('random is seeded by the host: the same host gets the same pick, run after run', () => {
    const pick = (host: string): unknown => r('{{ names | random }}', { ...vars, inventory_hostname: host });
    assert.equal(pick('pve1'), pick('pve1'));
    const picks = new Set(Array.from({ length: 20 }, (_x, i) => pick(`host${i}`)));
    assert.ok(picks.size > 1, 'different hosts get different picks');
    for (const p of picks) assert.ok(vars.names.includes(p as string));
    const n = r('{{ 60 | random(start=10, step=10) }}') as number;
    assert.ok([10, 20, 30, 40, 50].includes(n), String(n));
    assert.notEqual(r("{{ 1000000 | random(seed='a') }}"), r("{{ 1000000 | random(seed='b') }}"));
  });

  test('tests', () => {
    const cases: Array<[string, boolean]> = [
      ['{{ x is defined }}', true],
      ['{{ missing is undefined }}', true],
      ['{{ nothing is none }}', true],
      ['{{ x is string }}', true],
      ['{{ n is number }}', true],
      ['{{ d is mapping }}', true],
      ['{{ names is iterable }}', true],
      ['{{ names is sequence }}', true],
      ["{{ version is match('8\\\\.') }}", true],
      ["{{ version is search('2\\\\.4') }}", true],
      ["{{ version is regex('^8') }}", true],
      ['{{ ok is successful }}', true],
      ['{{ ok is succeeded }}', true],
      ['{{ bad is failed }}', true],
      ['{{ bad is changed }}', true],
      ['{{ skipped_r is skipped }}', true],
      ["{{ 'a' is in names }}", true],
      ["{{ version is version('8.1', '>=') }}", true],
      ["{{ version is version('9', 'lt') }}", true],
      ['{{ x is not defined }}', false],
    ];
    for (const [t, want] of cases) assert.equal(r(t), want, t);
  });

  test('typed: exactly one {{ expr }} keeps its type; anything around it makes text (item 8)', () => {
    assert.equal(r('{{ n + 1 }}'), 4);
    assert.deepEqual(r("{{ names | join(',') | split(',') }}"), ['b', 'a', 'c']);
    assert.equal(r('{{ nothing }}'), null);
    assert.equal(r('{{ n }}\n'), '3\n');
    assert.equal(r(' {{ n }}'), ' 3');
    assert.equal(r('{{ x }}\n'), 'abc\n');
    assert.equal(r('{{ n }}{# why #}'), 3);
  });

  test('lazy vars: a var holding Ansible syntax is rendered when used', () => {
    assert.equal(r('{{ lazy }}'), 'ABC-z');
    assert.equal(r('{{ lazy | lower }}'), 'abc-z');
    const loop = { a: '{{ b | upper }}', b: '{{ a }}' };
    throwsPhx(() => r('{{ a }}', loop), /recursive loop detected in template for var a/);
  });
});

describe('Jinja statements', () => {
  test('if / elif / else', () => {
    const t = '{% if n > 5 %}big{% elif n > 2 %}mid{% else %}small{% endif %}';
    assert.equal(s(t), 'mid');
    assert.equal(s(t, { n: 9 }), 'big');
    assert.equal(s(t, { n: 1 }), 'small');
    assert.equal(s('{% if missing is defined %}x{% endif %}'), '');
  });

  test('for, loop.*, else, unpacking, loop filter', () => {
    assert.equal(
      s(
        '{% for u in users %}{{ loop.index }}/{{ loop.length }}:{{ u.name }}{% if not loop.last %},{% endif %}{% endfor %}',
      ),
      '1/2:ann,2/2:bob',
    );
    assert.equal(s('{% for u in users %}{{ loop.index0 }}{{ loop.first }}{% endfor %}'), '0true1false');
    assert.equal(s('{% for i in [] %}x{% else %}empty{% endfor %}'), 'empty');
    assert.equal(s('{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}'), 'k=v;a b=1;');
    assert.equal(s('{% for k in d %}{{ k }};{% endfor %}'), 'k;a b;');
    assert.equal(s('{% for u in users if u.admin %}{{ u.name }}{{ loop.length }}{% endfor %}'), 'ann1');
    assert.equal(s('{% for i in range(3) %}{{ i }}{% endfor %}'), '012');
    assert.equal(s("{% for i in range(3) %}{{ loop.cycle('o', 'e') }}{% endfor %}"), 'oeo');
    throwsPhx(() => s("{{ d.cycle('a') }}"), /cycle\(\) is a method of the \{% for %\} loop variable/);
    // the loop variable shadows a var of the same name, only inside the loop
    assert.equal(s('{% for name in names %}{{ name }}{% endfor %}/{{ name }}'), 'bac/web');
  });

  test('set: a name for the rest of the template (inside a loop: that iteration)', () => {
    assert.equal(s('{% set y = n + 1 %}{{ y }} {{ y * 2 }}'), '4 8');
    assert.equal(s('{% set name = "override" %}{{ name }}'), 'override');
    assert.equal(s('{% for i in nums %}{% set z = i %}{% endfor %}{{ z | default("none") }}'), 'none');
    // namespace(): what a loop sets is seen after it
    const ns =
      '{% set ns = namespace(found=false, n=0) %}{% for u in users %}{% if u.admin %}{% set ns.found = true %}{% endif %}{% set ns.n = ns.n + u.uid %}{% endfor %}';
    assert.equal(s(`${ns}{{ ns.found }} {{ ns.n }}`), 'true 3');
    throwsPhx(() => s('{% set name.x = 1 %}'), /'name' is not a namespace\(\)/);
    throwsPhx(() => s('{% set d.k = 1 %}'), /not a namespace/);
  });

  test('comments and raw', () => {
    assert.equal(s('a{# a comment {{ nope }} #}b'), 'ab');
    assert.equal(s('{% raw %}{{ nope }} {% if %}{% endraw %}'), '{{ nope }} {% if %}');
    assert.equal(
      s("docker ps --format '{% raw %}{{.Names}}{% endraw %}' {{ name }}"),
      "docker ps --format '{{.Names}}' web",
    );
  });

  test('whitespace: trim_blocks on, lstrip_blocks off, `-` strips, trailing newlines kept', () => {
    const file = 'a\n{% if on %}\n  yes\n{% else %}\n  no\n{% endif %}\nb\n';
    assert.equal(s(file), 'a\n  yes\nb\n');
    // lstrip_blocks=False: the indentation before a tag stays
    assert.equal(s('x\n  {% if on %}\ny\n  {% endif %}\nz'), 'x\n  y\n  z');
    assert.equal(s('  {%- if on -%}  T  {%- endif -%}  !'), 'T!');
    assert.equal(s('{{ x -}}   \n  {{- n }}'), 'abc3');
    assert.equal(s('a  {{- n }}'), 'a3');
    // no trim after {{ }}; `+%}` keeps the newline
    assert.equal(s('{{ x }}\n{% if on +%}\nq{% endif %}'), 'abc\n\nq');
    // Ansible keeps the newline a template ends with even when trim_blocks took it
    assert.equal(s('{% if on %}v{% endif %}\n'), 'v\n');
    assert.equal(s('{% for i in nums %}\n{{ i }}\n{% endfor %}\n'), '3\n1\n2\n');
    // comments trim too
    assert.equal(s('{# c #}\nline\n'), 'line\n');
    // #jinja2: first line (Ansible's JINJA2_OVERRIDE): options for this template, the line is not output
    assert.equal(s('#jinja2: lstrip_blocks: True\n  {% if on %}\nv\n  {% endif %}\n'), 'v\n');
    throwsPhx(() => checkTemplateSyntax('#jinja2: variable_start_string: "[["\nx'), /not supported/);
  });

  test('mixing with Handlebars', () => {
    assert.equal(s('{{#each users}}{{ name | upper }}{% if admin %}*{% endif %};{{/each}}'), 'ANN*;BOB;');
    assert.equal(s('{{#if on}}{% for n in names %}{{ n }}{% endfor %}{{/if}}'), 'bac');
    assert.equal(s('{% for u in users %}{{#if u.admin}}{{ u.name }}{{/if}}{% endfor %}'), 'ann');
    assert.equal(s('{{ default missing "hb" }}/{{ missing | default("j") }}'), 'hb/j');
    assert.equal(s('{{#each users as |u|}}{{ u.uid * 10 }} {{/each}}'), '10 20 ');
    assert.equal(s('{{#each names}}{{ this | upper }}{{/each}}'), 'BAC');
    assert.equal(s('{{ None }}/{{ True }}/{{ none }}'), '/true/');
    // a Handlebars standalone block line still disappears; a Jinja one keeps its indentation
    assert.equal(s('{{#if on}}\n  x\n{{/if}}\n'), '  x\n');
  });
});

describe('{% include %}', () => {
  test('renders another file with the same names in scope; looked up beside the template, then templates/', () => {
    const dir = mkdtempSync(join(tmpdir(), 'phx-jinja-'));
    try {
      mkdirSync(join(dir, 'templates'));
      writeFileSync(join(dir, 'templates', 'user.j2'), '{{ u.name | upper }}{% if u.admin %}*{% endif %}\n');
      writeFileSync(join(dir, 'templates', 'bad.j2'), 'line one\n{{ u.nope }}\n');
      writeFileSync(join(dir, 'templates', 'self.j2'), "{% include 'self.j2' %}");
      const where = { baseDir: dir, loc: { file: join(dir, 'templates', 'main.j2'), line: 1, col: 1 } };
      const render = (t: string): string => renderString(t, vars, where);
      // Jinja drops the included file's last newline and trim_blocks the tag's: as Ansible writes it
      assert.equal(render("{% for u in users %}\n- {% include 'user.j2' %}\n\n{% endfor %}"), '- ANN*\n- BOB\n');
      assert.equal(render("a{% include 'none.j2' ignore missing %}b"), 'ab');
      throwsPhx(() => render("{% include 'none.j2' %}"), /template none\.j2 not found/);
      const e = throwsPhx(
        () => render("x\n{% for u in users %}{% include 'bad.j2' %}{% endfor %}"),
        /undefined variable 'u.nope'.*bad\.j2:2:4, included here/,
      );
      assert.equal(e.loc?.line, 2);
      throwsPhx(() => render("{% include 'self.j2' %}"), /includes itself/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('errors are located (file:line:col) at validation time', () => {
  const loc = { file: 'p.yml', line: 10, col: 5 };
  const at = (text: string, re: RegExp): { line: number; col: number } => {
    const e = throwsPhx(() => checkTemplateSyntax(text, loc), re);
    return { line: e.loc!.line, col: e.loc!.col };
  };

  test('syntax errors', () => {
    assert.deepEqual(at('a\n  {{ x | nofilter }}', /unknown filter 'nofilter'/), { line: 11, col: 10 });
    assert.deepEqual(at("line\n {{ x | default('y' }}", /expected '\)'/), { line: 11, col: 21 });
    assert.deepEqual(at('{% if x %}\n{% endfor %}', /\{% endfor %\} without an open \{% for %\}/), {
      line: 11,
      col: 1,
    });
    assert.deepEqual(at('x {% for i in l %}', /never closed/), { line: 10, col: 7 });
    assert.deepEqual(at('{{#if c}}{% if x %}{{/if}}', /still open/), { line: 10, col: 24 });
    at('{% macro m() %}{% endmacro %}', /\{% macro %\} is not supported/);
    at('a {% frobnicate %} b', /unknown Jinja statement \{% frobnicate %\}/);
    at('{% set x %}v{% endset %}', /block \{% set x %\}/);
    at('{% if x %}{% else %}{% else %}{% endif %}', /a second \{% else %\}/);
    at('{% if x %}{{else}}{% endif %}', /write \{% else %\}/);
    at('{{ x is nosuchtest }}', /unknown test 'nosuchtest'/);
    at('{% if x | nofilter %}{% endif %}', /unknown filter/);
  });

  test('render-time errors point into the text as written', () => {
    const e = throwsPhx(
      () => renderString('a\n{% for u in users %}\n  {{ u.nope | upper }}\n{% endfor %}', vars, { loc }),
      /undefined variable 'u.nope'/,
    );
    assert.deepEqual({ line: e.loc!.line, col: e.loc!.col }, { line: 12, col: 6 });
    const h = throwsPhx(() => renderString('{% if on %}{{ nope }}{% endif %}', vars, { loc }), /'nope'/);
    assert.deepEqual({ line: h.loc!.line, col: h.loc!.col }, { line: 10, col: 5 + '{% if on %}{{ '.length });
  });

  test('text that only looks like Jinja stays text (shell lines, printf formats)', () => {
    assert.equal(s('echo ${#arr[@]} {{ n }}'), 'echo ${#arr[@]} 3');
    assert.equal(s("printf '{%d}' 5"), "printf '{%d}' 5");
  });
});

describe('unsafe host output is never evaluated', () => {
  const out = markUnsafe({
    stdout: "{{ lookup('env', 'HOME') }}{% for i in range(9) %}x{% endfor %}",
    lines: ['{{ n }}', '{% raw %}'],
    map: { '{{ n }}': '{# c #}' },
  });
  const v = { ...vars, r: out };

  test('through expressions, filters, loops and set', () => {
    const text = unwrapUnsafe(r('{{ r.stdout | trim }}', v));
    assert.equal(text, out.stdout.toString());
    const joined = r("{{ r.lines | join(',') }}", v);
    assert.ok(joined instanceof UnsafeText);
    assert.equal(unwrapUnsafe(joined), '{{ n }},{% raw %}');
    assert.equal(s('{% for l in r.lines %}[{{ l }}]{% endfor %}', v), '[{{ n }}][{% raw %}]');
    assert.equal(s('{% for k, val in r.map.items() %}{{ k }}={{ val }}{% endfor %}', v), '{{ n }}={# c #}');
    assert.ok(r('{% for k, val in r.map.items() %}{{ val }}{% endfor %}', v) instanceof UnsafeText);
    assert.ok(r('{% for l in r.lines %}{{ l | upper }}{% endfor %}', v) instanceof UnsafeText);
    assert.equal(s('{% set t = r.stdout %}{{ t }}', v), out.stdout.toString());
    assert.ok(r('pre {{ r.stdout ~ "x" }}', v) instanceof UnsafeText);
  });

  test('a condition made of host output is refused, not evaluated', () => {
    throwsPhx(() => evaluateCondition("{{ r.stdout ~ '' }}", v), /unsafe text/);
    throwsPhx(() => evaluateCondition('x == x and {{ r.stdout }}', v), /unsafe text/);
  });
});

describe('a playbook written for Ansible, through the CLI (local connection)', () => {
  test('copy content "{{ x }}\\n" and a | block keep their newline; {{ }} in when warns once; Jinja template file', async () => {
    const ws = workspace();
    try {
      ws.write('inv.ini', localInventory(['h1']));
      ws.write(
        'templates/motd.j2',
        '{% for u in users | map(attribute="name") | sort %}\n{{ loop.index }}. {{ u }}\n{% endfor %}\n',
      );
      ws.write(
        'pb.yml',
        `
- hosts: all
  gather_facts: false
  vars:
    x: hello
    wanted: b
    users: [{ name: zed }, { name: amy }]
  tasks:
    - copy: { dest: "${ws.path('one.txt')}", content: "{{ x }}\\n" }
    - copy:
        dest: "${ws.path('block.txt')}"
        content: |
          {{ x | upper }}
    - copy: { dest: "${ws.path('typed.txt')}", content: "{{ [x, wanted] | join(',') }}" }
    - command: touch ${ws.path('marker')}-{{ item }}
      loop: [a, b, c]
      when: item == '{{ wanted }}'
    - template: { src: motd.j2, dest: "${ws.path('motd')}" }
`,
      );
      const r = await runCli(['-i', ws.path('inv.ini'), ws.path('pb.yml')], { cwd: ws.dir });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(readFileSync(ws.path('one.txt'), 'utf8'), 'hello\n');
      assert.equal(readFileSync(ws.path('block.txt'), 'utf8'), 'HELLO\n');
      assert.equal(readFileSync(ws.path('typed.txt'), 'utf8'), 'hello,b');
      assert.deepEqual(
        ['a', 'b', 'c'].map((i) => existsSync(`${ws.path('marker')}-${i}`)),
        [false, true, false],
      );
      assert.equal(readFileSync(ws.path('motd'), 'utf8'), '1. amy\n2. zed\n');
      const warnings = (r.stdout + r.stderr).match(/should not include jinja2 templating delimiters/g) ?? [];
      assert.equal(warnings.length, 1, r.stdout + r.stderr);
    } finally {
      ws.cleanup();
    }
  });

  test('--syntax-check finds a bad expression inside a condition and a template string, located', async () => {
    const ws = workspace();
    try {
      ws.write('inv.ini', localInventory(['h1']));
      ws.write(
        'pb.yml',
        `- hosts: all
  tasks:
    - debug: { msg: "{{ x | nosuchfilter }}" }
      when: "x == '{{ y | alsonosuch }}'"
`,
      );
      const r = await runCli(['-i', ws.path('inv.ini'), '--syntax-check', ws.path('pb.yml')], { cwd: ws.dir });
      assert.notEqual(r.code, 0);
      assert.match(r.stdout + r.stderr, /pb\.yml:3:\d+: .*unknown filter 'nosuchfilter'/);
      assert.match(r.stdout + r.stderr, /pb\.yml:4:\d+: .*unknown filter 'alsonosuch'/);
    } finally {
      ws.cleanup();
    }
  });
});

describe('robustness', () => {
  test('random soup of Jinja and Handlebars renders or gives a located PhxError, never a crash', () => {
    let seed = 7;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const toks = [
      '{{',
      '}}',
      '{%',
      '%}',
      '{#',
      '#}',
      '{%-',
      '-%}',
      '{{-',
      '-}}',
      ' if ',
      ' for ',
      ' in ',
      ' endif ',
      ' endfor ',
      ' else ',
      ' elif ',
      ' set ',
      ' = ',
      ' raw ',
      ' endraw ',
      '{{#if',
      '{{/if}}',
      '{{else}}',
      ' x ',
      ' names ',
      ' | ',
      ' upper ',
      ' default(',
      ')',
      "'s'",
      '[',
      ']',
      ' ~ ',
      '\n',
      '  ',
      'text',
      '{{{{raw}}}}',
      '{{{{/raw}}}}',
      '\\{{',
    ];
    for (let i = 0; i < 3000; i++) {
      const text = Array.from({ length: 1 + Math.floor(rnd() * 12) }, () => toks[Math.floor(rnd() * toks.length)]).join(
        '',
      );
      try {
        renderString(text, vars, { loc: { file: 'soup', line: 1, col: 1 } });
      } catch (e) {
        assert.equal((e as Error).name, 'PhxError', `${JSON.stringify(text)}: ${(e as Error).stack}`);
        assert.ok((e as { loc?: unknown }).loc, JSON.stringify(text));
      }
    }
  });
});
