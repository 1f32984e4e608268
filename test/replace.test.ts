// replace, following Ansible's lib/ansible/modules/replace.py (main(): re.subn
// with MULTILINE on the section between `after` and `before` (DOTALL, first
// match), "N replacements made", rc 0; "Pattern for before/after params did not
// match the given file: …"; rc 257 "Path … does not exist !"). Runs for real on a
// local connection in a temp dir: check mode, the run, a second run (ok).
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import replace, { editText, sectionPattern } from '../modules/replace.js';
import { argErrors, comparable, removeDir, run, snapshot, tempDir } from './modules-harness.js';

let dir = '';
before(() => (dir = tempDir()));
after(() => removeDir(dir));

const parse = (a: Record<string, unknown>) => replace.args.parse(a);

async function converge(args: Record<string, unknown>) {
  const snap = snapshot(dir);
  const check = await run(replace, args, { check: true, diff: true });
  assert.deepEqual(snapshot(dir), snap, 'check mode changed nothing');
  const real = await run(replace, args, { diff: true });
  assert.equal(real.result.failed, undefined, String(real.result.msg));
  assert.deepEqual(comparable(check.result), comparable(real.result));
  assert.deepEqual(check.result.diff, real.result.diff);
  const again = await run(replace, args);
  assert.equal(again.result.changed, false, 'second run is ok');
  return real.result;
}

describe('replace: the edit (pure)', () => {
  it('every match, MULTILINE ^ and $', () => {
    const r = editText('a=1\nb=1\na=2\n', parse({ path: '/x', regexp: '^a=\\d$', replace: 'a=0' }));
    assert.deepEqual(r, { after: 'a=0\nb=1\na=0\n', msg: '2 replacements made' });
  });
  it('groups and escapes in the template: \\1, \\g<name>, \\n', () => {
    const r = editText(
      'ListenAddress 1.2.3.4\n',
      parse({
        path: '/x',
        regexp: '^(?P<d>ListenAddress[ ]+)(?P<h>[^\\n]+)$',
        replace: '#\\g<d>\\g<h>\\n\\g<1>0.0.0.0',
      }),
    );
    assert.deepEqual(r, { after: '#ListenAddress 1.2.3.4\nListenAddress 0.0.0.0\n', msg: '1 replacements made' });
  });
  it('after/before narrow to the section (Ansible builds after(?P<subsection>.*?)before)', () => {
    assert.equal(sectionPattern({ after: 'A', before: 'B' }), 'A(?P<subsection>.*?)B');
    const text = 'x=1\n[s]\nx=1\nx=1\n[t]\nx=1\n';
    const r = editText(
      text,
      parse({ path: '/x', regexp: '^x=1$', replace: 'x=2', after: '\\[s\\]', before: '\\[t\\]' }),
    );
    assert.deepEqual(r, { after: 'x=1\n[s]\nx=2\nx=2\n[t]\nx=1\n', msg: '2 replacements made' });
    const none = editText(text, parse({ path: '/x', regexp: 'x', after: 'zzz' }));
    assert.deepEqual(none, {
      after: text,
      msg: 'Pattern for before/after params did not match the given file: zzz(?P<subsection>.*)',
      noSection: true,
    });
  });
  it('a template naming a missing group fails with a clear message', () => {
    const r = editText('abc', parse({ path: '/x', regexp: 'b', replace: '\\3' }));
    assert.ok('error' in r && r.error.startsWith('Unable to process replace due to error:'));
  });
  it('invalid regex is a schema error; backtracking patterns run in linear time (RE2)', () => {
    assert.ok(argErrors(replace, { path: '/x', regexp: '(' }).some((e) => e.startsWith('regexp:')));
    const r = editText('a'.repeat(5000) + '!', parse({ path: '/x', regexp: '^(a+)+$', replace: '' }));
    assert.deepEqual(r, { after: 'a'.repeat(5000) + '!', msg: '' });
  });
});

describe('replace on a real file (local connection)', () => {
  it('replaces, second run ok; missing file rc 257; no match is ok', async () => {
    const p = join(dir, 'sshd_config');
    writeFileSync(p, '#PermitRootLogin yes\nPasswordAuthentication yes\n');
    const r = await converge({ path: p, regexp: '^#?PermitRootLogin .*$', replace: 'PermitRootLogin no' });
    assert.equal(r.msg, '1 replacements made');
    assert.equal(r.rc, 0);
    assert.equal(readFileSync(p, 'utf8'), 'PermitRootLogin no\nPasswordAuthentication yes\n');
    const missing = await run(replace, { path: join(dir, 'nope'), regexp: 'x' });
    assert.equal(missing.result.failed, true);
    assert.equal(missing.result.rc, 257);
    assert.equal(missing.result.msg, `Path ${join(dir, 'nope')} does not exist !`);
  });

  it('mode change alone: "ownership, perms or SE linux context changed"', async () => {
    const p = join(dir, 'modeonly');
    writeFileSync(p, 'k\n', { mode: 0o644 });
    const r = await converge({ path: p, regexp: 'zzz', mode: '0600' });
    assert.equal(r.msg, 'ownership, perms or SE linux context changed');
  });
});
