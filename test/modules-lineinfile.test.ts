import assert from 'node:assert/strict';
import { existsSync, lstatSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import lineinfile from '../modules/lineinfile.js';
import { argErrors, comparable, run, snapshot, useTempDirAndUser } from './modules-harness.js';

const USER = 'phxlinetest';
const scratch = useTempDirAndUser(USER);

async function converge(args: Record<string, unknown>) {
  const snap = snapshot(scratch.dir);
  const check = await run(lineinfile, args, { check: true, diff: true });
  assert.deepEqual(snapshot(scratch.dir), snap, 'check mode changed nothing');
  const real = await run(lineinfile, args, { diff: true });
  assert.equal(real.result.failed, undefined, String(real.result.msg));
  assert.deepEqual(comparable(check.result), comparable(real.result));
  assert.deepEqual(check.result.diff, real.result.diff);
  assert.ok(real.roundTrips <= 2, `round trips ${real.roundTrips}`);
  const again = await run(lineinfile, args);
  assert.equal(again.result.changed, false, 'second run is ok');
  assert.equal(again.roundTrips, 1);
  return real.result;
}

const file = (name: string, text: string) => {
  const p = join(scratch.dir, name);
  writeFileSync(p, text);
  return p;
};
const read = (p: string) => readFileSync(p, 'utf8');

describe('lineinfile', () => {
  it('missing file: fails without create; create makes it (and its directory)', async () => {
    const p = join(scratch.dir, 'sub dir', 'new.conf');
    const missing = await run(lineinfile, { path: p, line: 'a=1' });
    assert.equal(missing.result.failed, true);
    assert.equal(missing.result.msg, `Destination ${p} does not exist !`);
    const r = await converge({ path: p, line: 'a=1', create: true, mode: '0600' });
    assert.equal(r.msg, 'line added');
    assert.equal(read(p), 'a=1\n');
    assert.equal(lstatSync(p).mode & 0o777, 0o600);
    assert.deepEqual(r.diff, { before: '', after: 'a=1\n', before_header: `${p} (absent)`, after_header: p });
  });

  it('regexp replaces the last match; identical line elsewhere is left alone', async () => {
    const p = file('sshd_config', '#PermitRootLogin yes\nPermitRootLogin yes\nX 1\nPermitRootLogin no\nlast');
    const r = await converge({ path: p, regexp: '^#?PermitRootLogin', line: 'PermitRootLogin prohibit-password' });
    assert.equal(r.msg, 'line replaced');
    assert.equal(read(p), '#PermitRootLogin yes\nPermitRootLogin yes\nX 1\nPermitRootLogin prohibit-password\nlast');
    assert.deepEqual(
      r.diff && !Array.isArray(r.diff) ? r.diff.before : '',
      '#PermitRootLogin yes\nPermitRootLogin yes\nX 1\nPermitRootLogin no\nlast',
    );
  });

  it('no regexp: appended once (newline added to an unterminated last line)', async () => {
    const p = file('plain', 'one\ntwo');
    await converge({ path: p, line: 'three' });
    assert.equal(read(p), 'one\ntwo\nthree\n');
    await converge({ path: p, line: 'one' });
    assert.equal(read(p), 'one\ntwo\nthree\n');
  });

  it('insertafter / insertbefore / BOF / firstmatch', async () => {
    const p = file('ins', '[a]\nk=1\n[b]\nk=2\n[a]\n');
    await converge({ path: p, line: 'after-last-a', insertafter: '^\\[a\\]' });
    assert.equal(read(p), '[a]\nk=1\n[b]\nk=2\n[a]\nafter-last-a\n');
    await converge({ path: p, line: 'after-first-a', insertafter: '^\\[a\\]', firstmatch: true });
    assert.equal(read(p), '[a]\nafter-first-a\nk=1\n[b]\nk=2\n[a]\nafter-last-a\n');
    await converge({ path: p, line: 'before-b', insertbefore: '^\\[b\\]' });
    assert.equal(read(p), '[a]\nafter-first-a\nk=1\nbefore-b\n[b]\nk=2\n[a]\nafter-last-a\n');
    await converge({ path: p, line: '# top', insertbefore: 'BOF' });
    assert.ok(read(p).startsWith('# top\n[a]\n'));
    await converge({ path: p, line: 'nomatch-goes-to-end', insertafter: '^zzz' });
    assert.ok(read(p).endsWith('after-last-a\nnomatch-goes-to-end\n'));
  });

  it('backrefs expand groups; no match means no change', async () => {
    const p = file('br', 'port = 22\n');
    const r = await converge({ path: p, regexp: '^port = (\\d+)$', line: 'port = \\1 # was \\g<1>', backrefs: true });
    assert.equal(read(p), 'port = 22 # was 22\n');
    assert.equal(r.msg, 'line replaced');
    const named = file('br2', 'user=bob\n');
    await converge({ path: named, regexp: '^user=(?P<name>\\w+)$', line: 'owner=\\g<name>', backrefs: true });
    assert.equal(read(named), 'owner=bob\n');
    const none = await run(lineinfile, { path: p, regexp: '^nothing', line: 'x', backrefs: true });
    assert.equal(none.result.changed, false);
  });

  it('absent removes every match and reports found', async () => {
    const p = file('abs', 'keep\ndrop 1\nkeep\ndrop 2\n');
    const r = await converge({ path: p, regexp: '^drop', state: 'absent' });
    assert.equal(r.found, 2);
    assert.equal(r.msg, '2 line(s) removed');
    assert.equal(read(p), 'keep\nkeep\n');
    const lit = file('abs2', 'a.b\naxb\n');
    await converge({ path: lit, search_string: 'a.b', state: 'absent' });
    assert.equal(read(lit), 'axb\n');
    const gone = await run(lineinfile, { path: join(scratch.dir, 'nofile'), line: 'x', state: 'absent' });
    assert.equal(gone.result.changed, false);
    assert.equal(existsSync(join(scratch.dir, 'nofile')), false);
  });

  it('hostile line content is literal; owner/mode change alone is reported as such', async () => {
    const p = file('hostile', 'x\n');
    const line = `A="$(touch /tmp/phx-pwned)" 'q' \`id\` -rf`;
    await converge({ path: p, line });
    assert.equal(read(p), `x\n${line}\n`);
    assert.equal(existsSync('/tmp/phx-pwned'), false);
    const r = await converge({ path: p, line, owner: USER, mode: '0640' });
    assert.equal(r.msg, 'ownership, perms or SE linux context changed');
    assert.equal(statSync(p).uid, scratch.user.uid);
    const both = await converge({ path: p, line: 'new', mode: '0600', backup: true });
    assert.equal(both.msg, 'line added and ownership, perms or SE linux context changed');
    assert.equal(read(both.backup as string), `x\n${line}\n`);
    assert.equal(statSync(p).uid, scratch.user.uid, 'owner kept when rewriting');
  });

  it('rejects bad arguments with clear messages', () => {
    assert.match(argErrors(lineinfile, { line: 'x' }).join(), /path is required/);
    assert.match(argErrors(lineinfile, { path: '/x' }).join(), /line is required with state present/);
    assert.match(argErrors(lineinfile, { path: '/x', state: 'absent' }).join(), /one of line, regexp, search_string/);
    assert.match(
      argErrors(lineinfile, { path: '/x', line: 'a', regexp: '(' }).join(),
      /regexp: invalid regular expression "\(": missing closing \)/,
    );
    assert.match(
      argErrors(lineinfile, { path: '/x', line: 'a', insertafter: 'a', insertbefore: 'b' }).join(),
      /mutually exclusive/,
    );
    assert.match(argErrors(lineinfile, { path: '/x', line: 'a', backrefs: true }).join(), /backrefs needs regexp/);
    assert.match(argErrors(lineinfile, { path: '/x', line: 'a', regex: 'a' }).join(), /regex/);
  });
});

describe('lineinfile: patterns on host files run in linear time (issue 11, item 6)', () => {
  it('a catastrophic regexp against a crafted line ends at once; backrefs and named groups still expand', async () => {
    const path = join(scratch.dir, 'crafted.conf');
    writeFileSync(path, `${'a'.repeat(5000)}!\nkey = old\n`);
    const started = Date.now();
    const r = await run(lineinfile, { path, regexp: '^(a+)+$', line: 'x' });
    assert.ok(Date.now() - started < 5000, 'a backtracking engine takes longer than the universe here');
    assert.equal(r.result.changed, true, 'no line matched: the line was added at the end');
    const b = await run(lineinfile, {
      path,
      regexp: '^(?P<k>key) = (\\w+)$',
      line: '\\g<k> = new (was \\2)',
      backrefs: true,
    });
    assert.equal(b.result.changed, true);
    assert.ok(readFileSync(path, 'utf8').includes('key = new (was old)\n'));
  });

  it('lookaround is refused at validation with the reason', () => {
    assert.match(argErrors(lineinfile, { path: '/x', regexp: '^(?=a)', line: 'x' }).join('\n'), /lookaround/);
  });
});
