import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import template from '../modules/template.js';
import { argErrors, comparable, removeDir, run, snapshot, tempDir } from './modules-harness.js';

let dir: string;
let ctrl: string;
before(() => {
  dir = tempDir();
  ctrl = tempDir('phx-ctrl-');
  mkdirSync(join(ctrl, 'templates'));
  writeFileSync(
    join(ctrl, 'templates', 'app.conf.hbs'),
    'name = {{ name }}\n{{#each ports}}listen {{ this }}\n{{/each}}secret = {{ secret }}\n',
  );
  writeFileSync(join(ctrl, 'broken.hbs'), 'line one\nvalue = {{ nope }}\n');
});
after(() => {
  removeDir(dir);
  removeDir(ctrl);
});

const vars = { name: 'web <1>', ports: [80, 443], secret: `$(touch /tmp/phx-pwned) 'q"` };
const expected = `name = web <1>\nlisten 80\nlisten 443\nsecret = $(touch /tmp/phx-pwned) 'q"\n`;

describe('template', () => {
  it('renders with host vars (no HTML escaping), 2 round trips, check predicts, second run ok', async () => {
    const dest = join(dir, 'app.conf');
    const args = { src: 'app.conf.hbs', dest, mode: '0600' };
    const snap = snapshot(dir);
    const check = await run(template, args, { check: true, diff: true, vars, baseDir: ctrl });
    assert.deepEqual(snapshot(dir), snap);
    const real = await run(template, args, { diff: true, vars, baseDir: ctrl });
    assert.equal(real.result.failed, undefined, String(real.result.msg));
    assert.equal(readFileSync(dest, 'utf8'), expected);
    assert.equal((lstatSync(dest).mode & 0o777).toString(8), '600');
    assert.deepEqual(comparable(check.result), comparable(real.result));
    assert.ok(real.roundTrips <= 2);
    assert.equal(real.result.src, 'app.conf.hbs');
    assert.deepEqual(real.result.diff, {
      before: '',
      after: expected,
      before_header: `${dest} (absent)`,
      after_header: dest,
    });
    const again = await run(template, args, { vars, baseDir: ctrl });
    assert.equal(again.result.changed, false);
    const changedVars = await run(template, args, { vars: { ...vars, name: 'db' }, baseDir: ctrl, diff: true });
    assert.equal(changedVars.result.changed, true);
    assert.match(
      String(Array.isArray(changedVars.result.diff) ? '' : changedVars.result.diff?.before),
      /name = web <1>/,
    );
    assert.equal(statSync(dest).mode & 0o777, 0o600);
  });

  it('into a directory, with CRLF line endings', async () => {
    const r = await run(
      template,
      { src: 'app.conf.hbs', dest: dir + '/', newline_sequence: '\r\n' },
      { vars, baseDir: ctrl },
    );
    assert.equal(r.result.dest, join(dir, 'app.conf.hbs'));
    assert.equal(readFileSync(join(dir, 'app.conf.hbs'), 'utf8'), expected.replace(/\n/g, '\r\n'));
  });

  it('an undefined variable fails the task naming it and the template file, and writes nothing', async () => {
    const dest = join(dir, 'never');
    const r = await run(template, { src: 'broken.hbs', dest }, { vars, baseDir: ctrl });
    assert.equal(r.result.failed, true);
    assert.match(String(r.result.msg), /nope/);
    assert.match(String(r.result.msg), /broken\.hbs/);
    assert.equal(r.roundTrips, 0);
    const missing = await run(template, { src: 'nothere.hbs', dest }, { vars, baseDir: ctrl });
    assert.match(String(missing.result.msg), /could not find src nothere\.hbs/);
  });

  it('renders an Ansible (Jinja) template file: statements, filters, trim_blocks, template vars', async () => {
    writeFileSync(
      join(ctrl, 'templates', 'hosts.j2'),
      [
        '# {{ ansible_managed }} ({{ template_path }} -> {{ template_destpath | basename }} on {{ template_host | length > 0 }})',
        '{# one line per port #}',
        '{% for p in ports | sort(reverse=true) %}',
        '{%   if p == 443 %}',
        'listen {{ p }} ssl;',
        '{%   else %}',
        'listen {{ p }};',
        '{%   endif %}',
        '{% endfor %}',
        "name = {{ name | upper | replace(' ', '_') }}",
        '{% raw %}{{ not rendered }}{% endraw %}',
        '',
      ].join('\n'),
    );
    const dest = join(dir, 'hosts.conf');
    const r = await run(template, { src: 'hosts.j2', dest }, { vars, baseDir: ctrl });
    assert.equal(r.result.failed, undefined, String(r.result.msg));
    assert.equal(
      readFileSync(dest, 'utf8'),
      '# Ansible managed (hosts.j2 -> hosts.conf on true)\nlisten 443 ssl;\nlisten 80;\nname = WEB_<1>\n{{ not rendered }}\n',
    );
    const managed = await run(
      template,
      { src: 'hosts.j2', dest },
      { vars: { ...vars, ansible_managed: 'by phx' }, baseDir: ctrl },
    );
    assert.match(readFileSync(dest, 'utf8'), /^# by phx /);
    assert.equal(managed.result.changed, true);
  });

  it('a template phx-play cannot render fails the task, nothing is written verbatim', async () => {
    writeFileSync(join(ctrl, 'macro.j2'), 'a\n{% macro m() %}x{% endmacro %}\n');
    writeFileSync(join(ctrl, 'badexpr.j2'), 'a\nb = {{ x | nosuchfilter }}\n');
    for (const [src, why] of [
      ['macro.j2', /macro\.j2:2:1: .*\{% macro %\} is not supported/],
      ['badexpr.j2', /badexpr\.j2:2:\d+: .*unknown filter 'nosuchfilter'/],
    ] as const) {
      const dest = join(dir, `${src}.out`);
      const r = await run(template, { src, dest }, { vars, baseDir: ctrl });
      assert.equal(r.result.failed, true);
      assert.match(String(r.result.msg), why);
      assert.throws(() => statSync(dest));
    }
  });

  it('trim_blocks and lstrip_blocks as arguments and as a #jinja2: first line', async () => {
    writeFileSync(join(ctrl, 'ws.j2'), 'a\n  {% if true %}\n  b\n  {% endif %}\nc\n');
    writeFileSync(
      join(ctrl, 'ws-header.j2'),
      '#jinja2: trim_blocks: False, lstrip_blocks: True\n  {% if true %}\nb\n{% endif %}\n',
    );
    const out = async (src: string, extra: Record<string, unknown> = {}): Promise<string> => {
      const dest = join(dir, `${src}-${Object.keys(extra).join('-')}.out`);
      const r = await run(template, { src, dest, ...extra }, { vars, baseDir: ctrl });
      assert.equal(r.result.failed, undefined, String(r.result.msg));
      return readFileSync(dest, 'utf8');
    };
    assert.equal(await out('ws.j2'), 'a\n    b\n  c\n'); // Ansible's defaults: indentation before a tag stays
    assert.equal(await out('ws.j2', { lstrip_blocks: true }), 'a\n  b\nc\n');
    assert.equal(await out('ws.j2', { trim_blocks: false }), 'a\n  \n  b\n  \nc\n');
    assert.equal(await out('ws-header.j2'), '\nb\n\n');
  });

  it('rejects bad arguments', () => {
    assert.match(argErrors(template, { src: 'a' }).join(), /dest/);
    assert.match(argErrors(template, { src: 'a', dest: '/b', content: 'x' }).join(), /content/);
    assert.match(argErrors(template, { src: 'a', dest: '/b', newline_sequence: 'x' }).join(), /newline_sequence/);
  });
});
