import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PhxError } from '../src/errors.js';
import {
  checkTemplateSyntax,
  hasTemplate,
  markUnsafe,
  renderString,
  renderValue,
  unwrapUnsafe,
} from '../src/template/index.js';
import { locateValue, parseYaml } from '../src/yaml-source.js';
import { throwsPhx } from './harness/throws-phx.js';

const vars = {
  name: 'web',
  port: 8080,
  enabled: true,
  off: false,
  nothing: null,
  ports: [80, 443],
  cfg: { path: '/srv/data', opts: { mode: '0755' } },
  users: [
    { name: 'ann', uid: 1001 },
    { name: 'bob', uid: 1002 },
  ],
  text: '  Hello World  ',
  empty: [],
};

describe('renderString', () => {
  test('interpolates scalars, JSON for objects and lists, true/false, none as empty', () => {
    assert.equal(renderString('{{ name }}:{{ port }}', vars), 'web:8080');
    assert.equal(renderString('p={{ ports }} c={{ cfg.opts }}', vars), 'p=[80,443] c={"mode":"0755"}');
    assert.equal(renderString('{{ enabled }}/{{ off }}', vars), 'true/false');
    assert.equal(renderString('[{{ nothing }}]', vars), '[]');
  });

  test('no HTML escaping', () => {
    assert.equal(renderString('{{ s }}', { s: `<a href="x">&'` }), `<a href="x">&'`);
  });

  test('text without {{ is returned as is', () => {
    assert.equal(renderString('plain } { text', vars), 'plain } { text');
  });

  test('Ansible paths: a.b.c, list.0, list.0.name, list.[1]', () => {
    assert.equal(renderString('{{ cfg.opts.mode }}', vars), '0755');
    assert.equal(renderString('{{ ports.0 }}-{{ ports.1 }}', vars), '80-443');
    assert.equal(renderString('{{ users.1.name }} {{ users.[0].uid }}', vars), 'bob 1001');
    assert.equal(renderString('{{ ports.length }}', vars), '2');
  });

  test('Jinja subscripts: list[0], item[\'key\'], item["a b"]', () => {
    assert.equal(renderString('{{ users[1][\'name\'] }}/{{ ports[0] }}/{{ cfg["opts"].mode }}', vars), 'bob/80/0755');
    assert.deepEqual(renderValue("{{ m['a b'] }}", { m: { 'a b': [1] } }), [1]);
    assert.equal(renderString("{{ join ports '[x]' }}", vars), '80[x]443'); // inside a string: untouched
  });

  test('positions stay exact after rewritten segments', () => {
    for (const prefix of ["{{ cfg['path'] }} ", '{{ ports[0] }} ', '{{ ports.1 }} {{ users.0.name }} ']) {
      const text = `${prefix}{{ bad }}`;
      const e = throwsPhx(() => renderString(text, vars, { loc: { file: 'f', line: 1, col: 1 } }), /'bad'/);
      assert.equal(e.loc?.col, text.indexOf('bad') + 1, prefix);
    }
  });

  test('escaped mustache and raw blocks stay literal (docker --format)', () => {
    assert.equal(renderString('\\{{ name }} {{ name }}', vars), '{{ name }} web');
    assert.equal(
      renderString("docker ps --format '{{{{raw}}}}{{.Names}} {{ x }}{{{{/raw}}}}' {{ name }}", vars),
      "docker ps --format '{{.Names}} {{ x }}' web",
    );
    assert.equal(
      renderString('{{{{raw}}}}{{ a.0 }}\n{{{{/raw}}}}{{ ports.1 }} {{ oops.0 }}', { ports: [1, 2], oops: [3] }),
      '{{ a.0 }}\n2 3',
    );
    throwsPhx(
      () => checkTemplateSyntax("docker ps --format '{{.Names}}'"),
      /looks like a Go template/,
      /\{\{\{\{raw\}\}\}\}/,
    );
  });

  test('config-file templates: standalone block lines leave no blank lines, ~ trims, comments vanish', () => {
    const text =
      'server {\n{{#each ports}}\n  listen {{this}};\n{{/each}}\n{{#if tls}}\n  ssl on;\n{{else}}\n  # no tls\n{{/if}}\n}\n';
    assert.equal(
      renderString(text, { ports: [80, 443], tls: false }),
      'server {\n  listen 80;\n  listen 443;\n  # no tls\n}\n',
    );
    assert.equal(renderString('a {{~ x ~}} b {{!-- note --}}c', { x: 1 }), 'a1b c');
  });

  test('the same text renders against different vars (cache by text only)', () => {
    assert.equal(renderString('v={{ x }}', { x: 1 }), 'v=1');
    assert.equal(renderString('v={{ x }}', { x: 2 }), 'v=2');
  });
});

describe('renderValue keeps types', () => {
  test('a single {{ expr }} keeps the value type', () => {
    assert.equal(renderValue('{{ port }}', vars), 8080);
    assert.equal(renderValue('{{ enabled }}', vars), true);
    assert.deepEqual(renderValue('{{ ports }}', vars), [80, 443]);
    assert.deepEqual(renderValue('{{ cfg.opts }}', vars), { mode: '0755' });
    assert.equal(renderValue('{{ nothing }}', vars), null);
    // only a string that is exactly one {{ expr }} keeps the type; whitespace around makes it text (Ansible)
    assert.equal(renderValue('  {{ port }}\n', vars), '  8080\n');
    assert.equal(renderValue('{{ 5 }}', vars), 5);
    assert.equal(renderValue('{{ length ports }}', vars), 2);
  });

  test('anything more than one expression is a string', () => {
    assert.equal(renderValue('{{ port }}{{ port }}', vars), '80808080');
    assert.equal(renderValue('port {{ port }}', vars), 'port 8080');
  });

  test('deep over lists and mappings, keys too', () => {
    const input = { a: ['{{ port }}', 'x-{{ name }}'], '{{ name }}_key': { n: '{{ enabled }}' }, keep: 1 };
    assert.deepEqual(renderValue(input, vars), { a: [8080, 'x-web'], web_key: { n: true }, keep: 1 });
  });

  test('parts without templates keep their identity', () => {
    const inner = { x: [1, 2] };
    const input = { inner, t: '{{ port }}' };
    const out = renderValue(input, vars) as { inner: unknown };
    assert.equal(out.inner, inner);
    const untouched = { a: 'plain', b: [1] };
    assert.equal(renderValue(untouched, vars), untouched);
    assert.equal(renderValue(42, vars), 42);
  });

  test('hasTemplate', () => {
    assert.equal(hasTemplate('a {{ b }}'), true);
    assert.equal(hasTemplate('a { b }'), false);
    assert.equal(hasTemplate(5), false);
  });
});

describe('strict undefined', () => {
  test('names the variable and the task, located', () => {
    const e = throwsPhx(
      () =>
        renderString('dest: {{ missing_var }}', vars, {
          task: 'Copy file',
          loc: { file: 'play.yml', line: 7, col: 12 },
        }),
      /undefined variable 'missing_var'/,
      /in task "Copy file"/,
    );
    assert.deepEqual(e.loc, { file: 'play.yml', line: 7, col: 12 + 'dest: {{ '.length });
  });

  test('a missing key names the path and why', () => {
    throwsPhx(() => renderString('{{ cfg.nope }}', vars), /undefined variable 'cfg\.nope' \('cfg' has no key 'nope'\)/);
    throwsPhx(() => renderString('{{ nothing.x }}', vars), /'nothing' is none/);
    throwsPhx(() => renderString('{{ ports.5 }}', vars), /undefined variable 'ports\.5'.*list of 2 items/);
    throwsPhx(() => renderValue('{{ cfg.path.x }}', vars), /'cfg\.path' is a string/);
  });

  test('exact column of a quoted YAML scalar, from the YAML source', () => {
    const text = 'task:\n  dest: "/srv/{{ nme }}/x"\n';
    const doc = parseYaml(text, '/virtual/quoted.yml') as { task: Record<string, unknown> };
    const loc = locateValue(doc.task, 'dest');
    const e = throwsPhx(() => renderValue(doc.task.dest, vars, { loc }), /'nme'/);
    const line = text.split('\n')[1];
    assert.deepEqual(e.loc, { file: '/virtual/quoted.yml', line: 2, col: line.indexOf('nme') + 1 });
  });

  test('deep rendering points at the nested YAML value', () => {
    const text = 'args:\n  a: ok\n  list:\n    - "{{ name }}"\n    - "x {{ oops }}"\n';
    const doc = parseYaml(text, '/virtual/nested.yml') as { args: unknown };
    const e = throwsPhx(
      () => renderValue(doc.args, vars, { loc: { file: '/virtual/nested.yml', line: 1, col: 1 } }),
      /'oops'/,
    );
    assert.equal(e.loc?.line, 5);
    assert.equal(e.loc?.col, text.split('\n')[4].indexOf('oops') + 1);
  });

  test('multi-line template file: line and column of the undefined var', () => {
    const text = 'line one\n  {{ name }} and {{ bad }}\n';
    const e = throwsPhx(() => renderString(text, vars, { loc: { file: 'motd.hbs', line: 1, col: 1 } }), /'bad'/);
    assert.deepEqual(e.loc, { file: 'motd.hbs', line: 2, col: text.split('\n')[1].indexOf('bad') + 1 });
  });

  test('undefined in #if is an error, with the (defined x) hint', () => {
    throwsPhx(() => renderString('{{#if proxy}}x{{/if}}', vars), /undefined variable 'proxy'/, /\(defined proxy\)/);
    assert.equal(renderString('{{#if (defined proxy)}}x{{else}}none{{/if}}', vars), 'none');
  });

  test('undefined helper argument is an error naming it', () => {
    throwsPhx(() => renderString('{{ upper nope }}', vars), /undefined variable 'nope'/);
    throwsPhx(() => renderString('{{ join ports sep }}', vars), /undefined variable 'sep'/);
  });
});

describe('default and defined see undefined values', () => {
  test('default replaces only undefined, unless asked for falsy too', () => {
    assert.equal(renderString('{{ default x "y" }}', vars), 'y');
    assert.equal(renderValue('{{ default x 3 }}', vars), 3);
    assert.equal(renderString('{{ default name "y" }}', vars), 'web');
    assert.equal(renderValue('{{ default off "y" }}', vars), false);
    assert.equal(renderValue('{{ default off "y" true }}', vars), 'y');
    assert.equal(renderValue('{{ default cfg.missing.deeper "d" }}', vars), 'd');
    assert.equal(renderValue('{{ default (default a b) "z" }}', vars), 'z');
  });

  test('defined', () => {
    assert.equal(renderValue('{{ defined name }}', vars), true);
    assert.equal(renderValue('{{ defined cfg.nope }}', vars), false);
  });
});

describe('helpers', () => {
  const r = (t: string, v: Record<string, unknown> = vars): unknown => renderValue(t, v);
  test('comparisons and logic', () => {
    assert.equal(r('{{ eq port 8080 }}'), true);
    assert.equal(r('{{ eq ports (split "80 443") }}'), false);
    assert.equal(r('{{ eq cfg.opts.mode "0755" }}'), true);
    assert.equal(r('{{ ne name "db" }}'), true);
    assert.equal(r('{{ lt 1 2 }}{{ gt 1 2 }}{{ le 2 2 }}{{ ge 1 2 }}'), 'truefalsetruefalse');
    assert.equal(r('{{ and enabled port name }}'), true);
    assert.equal(r('{{ and enabled off }}'), false);
    assert.equal(r('{{ or off empty 0 }}'), false);
    assert.equal(r('{{ or off empty 1 }}'), true);
    assert.equal(r('{{ not empty }}'), true);
    assert.equal(r('{{ ternary enabled "on" "off" }}'), 'on');
    throwsPhx(() => r('{{ lt name 1 }}'), /'<' not supported between string and number/);
  });

  test('#if with helpers, else if, unless', () => {
    const t = '{{#if (eq port 80)}}a{{else if (gt port 1000)}}b{{else}}c{{/if}}';
    assert.equal(r(t), 'b');
    assert.equal(r('{{#unless off}}u{{/unless}}'), 'u');
    assert.equal(r('{{#if empty}}x{{else}}empty list is false{{/if}}'), 'empty list is false');
  });

  test('#each over lists and mappings, @index/@key/@first/@last, block params, parent and root lookups', () => {
    assert.equal(r('{{#each ports}}{{@index}}:{{this}}{{#unless @last}},{{/unless}}{{/each}}'), '0:80,1:443');
    assert.equal(r('{{#each cfg.opts}}{{@key}}={{this}}{{/each}}'), 'mode=0755');
    assert.equal(r('{{#each users as |u i|}}{{i}}{{u.name}}@{{port}} {{/each}}'), '0ann@8080 1bob@8080 ');
    assert.equal(
      r('{{#each users}}{{name}}/{{../name}}/{{@root.port}}/{{@first}} {{/each}}'),
      'ann/web/8080/true bob/web/8080/false ',
    );
    assert.equal(r('{{#each empty}}x{{else}}none{{/each}}'), 'none');
    assert.equal(r('{{#with cfg.opts}}{{mode}}{{/with}}'), '0755');
    throwsPhx(() => r('{{#each name}}x{{/each}}'), /#each expects a list or mapping, got string/);
  });

  test('strings and lists', () => {
    assert.equal(r('{{ join ports "," }}'), '80,443');
    assert.equal(r('{{ join ports }}'), '80443');
    assert.equal(r('{{ upper name }}{{ lower "AB" }}'), 'WEBab');
    assert.equal(r('[{{ trim text }}]'), '[Hello World]');
    assert.equal(r('{{ length text }}'), 15);
    assert.equal(r('{{ length cfg }}'), 2);
    assert.deepEqual(r('{{ split "a,b,,c" "," }}'), ['a', 'b', '', 'c']);
    assert.deepEqual(r('{{ split " a  b " }}'), ['a', 'b']);
    assert.equal(r('{{ replace "a-b-c" "-" "+" }}'), 'a+b+c');
    assert.equal(r('{{ first ports }}/{{ last ports }}'), '80/443');
    assert.deepEqual(r('{{ keys cfg }}'), ['path', 'opts']);
    assert.deepEqual(r('{{ values cfg.opts }}'), ['0755']);
    assert.equal(r('{{ contains ports 443 }}'), true);
    assert.equal(r('{{ concat name "-" port }}'), 'web-8080');
    const hv = { hostvars: { pve1: { ip: '127.0.0.2' } }, inventory_hostname: 'pve1' };
    assert.equal(r('{{ get hostvars inventory_hostname }}', hv) instanceof Object, true);
    assert.equal(r('{{ get (get hostvars inventory_hostname) "ip" }}', hv), '127.0.0.2');
    assert.equal(r('{{ default (get hostvars "nope") "none" }}', hv), 'none');
    throwsPhx(() => r('{{ get hostvars "nope" }}', hv), /undefined variable 'mapping\["nope"\]'/);
    assert.equal(r('{{ hostvars[inventory_hostname].ip }}', hv), '127.0.0.2');
  });

  test('conversions', () => {
    assert.equal(r('{{ int "42" }}'), 42);
    assert.equal(r('{{ int "4.9" }}'), 4);
    assert.equal(r('{{ int "x" }}'), 0);
    assert.equal(r('{{ int "x" 7 }}'), 7);
    assert.equal(r('{{ float "1.5" }}'), 1.5);
    for (const yes of ['yes', 'on', '1', 'true', 'True', 'Y']) assert.equal(r('{{ bool v }}', { v: yes }), true, yes);
    for (const no of ['no', 'off', '0', 'false', 'maybe', '']) assert.equal(r('{{ bool v }}', { v: no }), false, no);
    assert.equal(r('{{ string port }}'), '8080');
  });

  test('json, to_yaml, indent', () => {
    assert.equal(r('{{ json cfg }}'), '{"path":"/srv/data","opts":{"mode":"0755"}}');
    assert.equal(r('{{ json ports 2 }}'), '[\n  80,\n  443\n]');
    assert.equal(r('{{ to_yaml cfg }}'), 'path: /srv/data\nopts:\n  mode: "0755"');
    assert.equal(r('x:\n{{ indent (to_yaml cfg.opts) 2 first=true }}'), 'x:\n  mode: "0755"');
  });

  test('paths, regex, quoting, base64', () => {
    assert.equal(r('{{ basename cfg.path }}|{{ dirname cfg.path }}'), 'data|/srv');
    assert.equal(r('{{ regex_replace "pve-node-01" "^pve-(\\w+)-(\\d+)$" "\\2-\\1" }}'), '01-node');
    assert.equal(r('{{ regex_replace "a.b.c" "\\." "/" }}'), 'a/b/c');
    assert.equal(r('{{ regex_replace "ABC" "b" "x" ignorecase=true }}'), 'AxC');
    assert.equal(r('{{ regex_replace "cost" "o" "$1" }}'), 'c$1st');
    assert.equal(r('{{ quote s }}', { s: "it's $(rm -rf /)" }), `'it'\\''s $(rm -rf /)'`);
    assert.equal(r('{{ quote "plain" }}'), 'plain');
    assert.equal(r('{{ b64encode "héllo" }}'), Buffer.from('héllo').toString('base64'));
    assert.equal(r('{{ b64decode (b64encode "x y") }}'), 'x y');
    throwsPhx(() => r('{{ regex_replace "a" "(" "b" }}'), /invalid regular expression/);
  });

  test('lookup env and file (relative to baseDir)', () => {
    process.env.PHX_TEMPLATE_TEST = 'from-env';
    const dir = mkdtempSync(join(tmpdir(), 'phx-tpl-'));
    try {
      writeFileSync(join(dir, 'key.pub'), 'ssh-ed25519 AAAA test\n\n');
      assert.equal(renderString('{{ lookup "env" "PHX_TEMPLATE_TEST" }}', {}), 'from-env');
      assert.equal(renderString('[{{ lookup "env" "PHX_SURELY_UNSET_VAR" }}]', {}), '[]');
      assert.equal(renderString('{{ lookup "file" "key.pub" }}', {}, { baseDir: dir }), 'ssh-ed25519 AAAA test');
      throwsPhx(
        () => renderString('{{ lookup "file" "nope.txt" }}', {}, { baseDir: dir, task: 'T' }),
        /cannot read .*nope\.txt: ENOENT/,
        /in task "T"/,
      );
      throwsPhx(() => renderString('{{ lookup "pipe" "id" }}', {}), /unknown lookup "pipe"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      delete process.env.PHX_TEMPLATE_TEST;
    }
  });
});

describe('lazy vars', () => {
  test('a var whose value is a template resolves when used, in chains', () => {
    const v = {
      a: 'base',
      b: '{{ a }}-x',
      c: '{{ b }}/{{ a }}',
      n: 3,
      m: '{{ n }}',
      l: '{{ list }}',
      list: [1, '{{ n }}'],
    };
    assert.equal(renderString('{{ c }}', v), 'base-x/base');
    assert.equal(renderValue('{{ m }}', v), 3);
    assert.deepEqual(renderValue('{{ l }}', v), [1, 3]);
    assert.equal(renderValue('{{ l.1 }}', v), 3);
    assert.equal(renderString('{{#each list}}{{this}};{{/each}}', v), '1;3;');
  });

  test('templates inside nested structures resolve too', () => {
    const v = { base: '/srv', cfg: { path: '{{ base }}/data', sub: { p: '{{ cfg.path }}/x' } } };
    assert.equal(renderString('{{ cfg.sub.p }}', v), '/srv/data/x');
    assert.deepEqual(renderValue('{{ cfg }}', v), { path: '/srv/data', sub: { p: '/srv/data/x' } });
    assert.equal(renderString('{{ json cfg.sub }}', v), '{"p":"/srv/data/x"}');
  });

  test('an undefined var inside a lazy var says where', () => {
    throwsPhx(() => renderString('{{ b }}', { b: '{{ c }}-x' }), /undefined variable 'c' \(in the value of 'b'\)/);
  });

  test('loops are detected, directly and through other vars', () => {
    throwsPhx(() => renderString('{{ a }}', { a: '{{ a }}' }), /recursive loop detected in template for var a/);
    throwsPhx(
      () => renderString('{{ a }}', { a: '{{ b }}', b: 'x{{ c }}', c: '{{ a }}' }),
      /recursive loop detected in template for var a/,
    );
    throwsPhx(() => renderValue('{{ x }}', { x: ['{{ length x }}'] }), /recursive loop detected in template for var x/);
    throwsPhx(() => renderString('{{ x.y }}', { x: { y: '{{ x.z }}', z: '{{ x.y }}' } }), /recursive loop detected/);
  });

  test('a rendered value is not rendered again', () => {
    const v = { raw: '{{ literal }}', shown: '{{ raw }}' };
    // `raw` is a template itself, so rendering it needs `literal`:
    throwsPhx(() => renderString('{{ shown }}', v), /'literal'/);
    const dir = mkdtempSync(join(tmpdir(), 'phx-tpl-'));
    try {
      writeFileSync(join(dir, 'f.txt'), 'keep {{ this }} as is');
      const w = { content: '{{ lookup "file" "f.txt" }}' };
      assert.equal(renderString('{{ content }}', w, { baseDir: dir }), 'keep {{ this }} as is');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('unsafe data (registered results) is never templated', () => {
  test('strings under a marked object are used as they are', () => {
    const result = markUnsafe({ stdout: 'tpl: {{ not_a_var }}', lines: ['{{ x }}'] });
    const v = { out: result, safe: '{{ n }}', n: 1 };
    assert.equal(renderString('got {{ out.stdout }}', v), 'got tpl: {{ not_a_var }}');
    // unsafe text stays UnsafeText (src/unsafe.ts): compared as plain data
    assert.deepEqual(unwrapUnsafe(renderValue('{{ out.lines }}', v)), ['{{ x }}']);
    assert.equal(renderValue('{{ out }}', v), result);
    assert.equal(renderString('{{#each out.lines}}{{this}}{{/each}}', v), '{{ x }}');
    assert.equal(renderValue('{{ safe }}', v), 1);
  });
});

describe('syntax checks', () => {
  test('Ansible filter pipes, calls and statements are accepted (test/jinja.test.ts has the rest)', () => {
    assert.doesNotThrow(() => checkTemplateSyntax("{{ x | default('y') }}"));
    assert.doesNotThrow(() => checkTemplateSyntax('{{ name | upper | trim }}'));
    assert.equal(renderString('a {{ port | int }}', vars), 'a 8080');
    assert.doesNotThrow(() => checkTemplateSyntax("{{ lookup('env', 'HOME') }}"));
    assert.doesNotThrow(() => checkTemplateSyntax('{% if x %}a{% endif %}'));
    throwsPhx(() => checkTemplateSyntax("{{ x | nosuchfilter('y') }}"), /unknown filter 'nosuchfilter'/);
  });

  test('unknown helpers and wrong argument counts', () => {
    throwsPhx(() => checkTemplateSyntax('{{ frobnicate x }}'), /unknown helper 'frobnicate'/);
    throwsPhx(() => checkTemplateSyntax('{{ upper (frob x) }}'), /unknown helper 'frob'/);
    throwsPhx(() => checkTemplateSyntax('{{ default x }}'), /helper 'default' takes 2 to 3 arguments, got 1/);
    throwsPhx(() => checkTemplateSyntax('{{ eq a b c }}'), /helper 'eq' takes 2 arguments, got 3/);
    throwsPhx(() => checkTemplateSyntax('{{#loop x}}{{/loop}}'), /unknown block helper '#loop'/);
    throwsPhx(() => checkTemplateSyntax('{{> partial }}'), /partials/);
    // a helper name used without arguments is a variable lookup, not a call
    assert.doesNotThrow(() => checkTemplateSyntax('{{ lookup }} {{ first }}'));
    assert.equal(renderString('{{ first }}', { first: 'var wins' }), 'var wins');
  });

  test('syntax errors are located', () => {
    const e = throwsPhx(
      () => checkTemplateSyntax('ok {{ a & b }}', { file: 'p.yml', line: 3, col: 10 }),
      /invalid template: unexpected character "&"/,
    );
    assert.deepEqual(e.loc, { file: 'p.yml', line: 3, col: 10 + 'ok {{ a '.length });
    throwsPhx(() => checkTemplateSyntax('{{ a }'), /unclosed/);
    throwsPhx(() => checkTemplateSyntax('{{#if a}}x'), /unclosed \{\{#block\}\}/);
    const unclosed = throwsPhx(
      () => checkTemplateSyntax('ok {{ a b', { file: 'p.yml', line: 3, col: 10 }),
      /unclosed '\{\{'/,
    );
    assert.deepEqual(unclosed.loc, { file: 'p.yml', line: 3, col: 13 });
    assert.equal(renderString('{{ list[-1] }}', { list: [1, 2] }), '2');
    const mismatch = throwsPhx(
      () => checkTemplateSyntax('{{#if a}}x{{/each}}', { file: 'p.yml', line: 1, col: 1 }),
      /doesn't match/,
    );
    assert.equal(mismatch.loc?.line, 1);
    assert.doesNotThrow(() => checkTemplateSyntax('no template here'));
    assert.doesNotThrow(() => checkTemplateSyntax('{{#each l as |x|}}{{x}}{{/each}} {{ default a.b "c" }}'));
  });
});

describe('robustness', () => {
  test('random template soup renders or gives a PhxError, never a crash', () => {
    let seed = 11;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const toks = [
      '{{',
      '}}',
      '{{#if',
      '{{#each',
      '{{/if}}',
      '{{/each}}',
      '{{else}}',
      ' a ',
      ' b.0 ',
      ' l[0] ',
      "'s'",
      '"t"',
      'default',
      'eq',
      '(',
      ')',
      '|',
      'text',
      '\n',
      '~',
      '{{{{raw}}}}',
      '{{{{/raw}}}}',
      'this',
      '@index',
      '../',
      'as |x|',
      '\\{{',
      'constructor',
      'get',
      '=',
    ];
    const v = { a: 1, b: [1, { c: '{{ a }}' }], l: [1, 2], x: '{{ x }}' };
    for (let i = 0; i < 5000; i++) {
      const text = Array.from({ length: 1 + Math.floor(rnd() * 8) }, () => toks[Math.floor(rnd() * toks.length)]).join(
        rnd() < 0.5 ? ' ' : '',
      );
      try {
        checkTemplateSyntax(text);
        renderValue(text, v);
      } catch (e) {
        assert.ok(e instanceof PhxError, `${JSON.stringify(text)}: ${String(e)}`);
      }
    }
  });
});

describe('no code execution, no JS internals', () => {
  test('constructor, __proto__ and prototype are refused', () => {
    throwsPhx(() => renderString('{{ constructor }}', vars), /access to 'constructor' is not allowed/);
    throwsPhx(() => renderString('{{ cfg.constructor.name }}', vars), /access to 'constructor' is not allowed/);
    throwsPhx(() => renderString('{{ cfg.__proto__ }}', vars), /access to '__proto__' is not allowed/);
    throwsPhx(() => renderString('{{ name.constructor.prototype }}', vars), /not allowed/);
    throwsPhx(() => renderString('{{ default cfg.constructor "x" }}', vars), /not allowed/);
    throwsPhx(() => renderString('{{#each cfg.__proto__}}{{/each}}', vars), /not allowed/);
  });

  test('Object.prototype names are not helpers, data variables or keys', () => {
    throwsPhx(() => checkTemplateSyntax('{{ constructor name }}'), /unknown helper 'constructor'/);
    throwsPhx(() => checkTemplateSyntax('{{ hasOwnProperty name }}'), /unknown helper 'hasOwnProperty'/);
    throwsPhx(() => checkTemplateSyntax('{{#toString name}}{{/toString}}'), /unknown block helper/);
    throwsPhx(
      () => renderString('{{#each ports}}{{@constructor}}{{/each}}', vars),
      /undefined variable '@constructor'/,
    );
    throwsPhx(() => renderString('{{ @toString }}', vars), /undefined variable '@toString'/);
    const out = renderValue({ '{{ k }}': { polluted: true } }, { k: '__proto__' }) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.deepEqual(Object.keys(out), ['__proto__']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test('inherited Object members are not variables', () => {
    throwsPhx(() => renderString('{{ toString }}', vars), /undefined variable 'toString'/);
    throwsPhx(() => renderString('{{ cfg.hasOwnProperty }}', vars), /undefined variable 'cfg\.hasOwnProperty'/);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test('a structure containing itself neither hangs nor crashes', () => {
    const loop: Record<string, unknown> = { name: '{{ port }}' };
    loop.self = loop;
    assert.equal((renderValue('{{ loop }}', { loop, port: 1 }) as Record<string, unknown>).name, 1);
    throwsPhx(() => renderString('x {{ loop }}', { loop, port: 1 }), /cannot show this value as JSON/);
  });

  test('layered vars (prototype-chained plain objects) are visible', () => {
    const play = { a: 'play', b: 'play' };
    const host = Object.assign(Object.create(play) as Record<string, unknown>, { b: 'host' });
    assert.equal(renderString('{{ a }}/{{ b }}', host), 'play/host');
  });
});
