// blockinfile, following Ansible's lib/ansible/modules/blockinfile.py (main():
// markers found → block replaced in place; else insertafter/insertbefore on the
// last matching line, EOF/BOF; "File created", "Block inserted", "Block removed";
// rc 257 "Path … does not exist !"). Runs for real on a local connection in a
// temp dir: check mode first (nothing changes), then the run, then a second run (ok).
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import blockinfile, { editBlock } from '../modules/blockinfile.js';
import { argErrors, comparable, removeDir, run, snapshot, tempDir } from './modules-harness.js';

let dir = '';
before(() => (dir = tempDir()));
after(() => removeDir(dir));

const parse = (a: Record<string, unknown>) => blockinfile.args.parse(a);
const M0 = '# BEGIN ANSIBLE MANAGED BLOCK\n';
const M1 = '# END ANSIBLE MANAGED BLOCK\n';

async function converge(args: Record<string, unknown>) {
  const snap = snapshot(dir);
  const check = await run(blockinfile, args, { check: true, diff: true });
  assert.deepEqual(snapshot(dir), snap, 'check mode changed nothing');
  const real = await run(blockinfile, args, { diff: true });
  assert.equal(real.result.failed, undefined, String(real.result.msg));
  assert.deepEqual(comparable(check.result), comparable(real.result));
  assert.deepEqual(check.result.diff, real.result.diff);
  assert.ok(real.roundTrips <= 2, `round trips ${real.roundTrips}`);
  const again = await run(blockinfile, args);
  assert.equal(again.result.changed, false, 'second run is ok');
  assert.equal(again.roundTrips, 1);
  return real.result;
}

describe('blockinfile: the edit (pure)', () => {
  it('appends at EOF with markers, adding the missing newline of the last line', () => {
    assert.equal(editBlock('a\nb', parse({ path: '/x', block: 'k=1' })), `a\nb\n${M0}k=1\n${M1}`);
  });
  it('replaces the block between existing markers in place', () => {
    const text = `top\n${M0}old\nlines\n${M1}tail\n`;
    assert.equal(editBlock(text, parse({ path: '/x', block: 'new\n' })), `top\n${M0}new\n${M1}tail\n`);
  });
  it('markers in reverse order: the span between them goes (as blockinfile.py n1 < n0)', () => {
    const text = `a\n${M1}mid\n${M0}z\n`;
    assert.equal(editBlock(text, parse({ path: '/x', block: 'b' })), `a\n${M0}b\n${M1}z\n`);
  });
  it('insertafter / insertbefore use the LAST matching line; BOF; no match goes to the end', () => {
    const text = '[a]\nx\n[a]\ny\n';
    assert.equal(
      editBlock(text, parse({ path: '/x', block: 'b', insertafter: '^\\[a\\]$' })),
      `[a]\nx\n[a]\n${M0}b\n${M1}y\n`,
    );
    assert.equal(
      editBlock(text, parse({ path: '/x', block: 'b', insertbefore: '^\\[a\\]' })),
      `[a]\nx\n${M0}b\n${M1}[a]\ny\n`,
    );
    assert.equal(editBlock(text, parse({ path: '/x', block: 'b', insertbefore: 'BOF' })), `${M0}b\n${M1}${text}`);
    assert.equal(editBlock(text, parse({ path: '/x', block: 'b', insertafter: 'zzz' })), `${text}${M0}b\n${M1}`);
  });
  it('a (?m) pattern searches the whole text (blockinfile.py: insertre.flags & re.MULTILINE)', () => {
    const text = 'a\nb\nc\n';
    assert.equal(editBlock(text, parse({ path: '/x', block: 'B', insertafter: '(?m)^b$' })), `a\nb\n${M0}B\n${M1}c\n`);
  });
  it('state absent and an empty block remove markers and block', () => {
    const text = `a\n${M0}x\n${M1}b\n`;
    assert.equal(editBlock(text, parse({ path: '/x', state: 'absent' })), 'a\nb\n');
    assert.equal(editBlock(text, parse({ path: '/x', block: '' })), 'a\nb\n');
  });
  it('custom marker, marker_begin/end; prepend_newline/append_newline', () => {
    const a = parse({
      path: '/x',
      block: 'v',
      marker: '// {mark} phx',
      marker_begin: 'start',
      marker_end: 'stop',
      insertafter: '^a',
      prepend_newline: true,
      append_newline: true,
    });
    assert.equal(editBlock('a\nb\n', a), 'a\n\n// start phx\nv\n// stop phx\n\nb\n');
  });
  it('hostile values: a marker with a line break is refused by the schema', () => {
    assert.ok(argErrors(blockinfile, { path: '/x', marker: '# {mark}\nevil=1' }).some((e) => e.startsWith('marker:')));
    assert.ok(argErrors(blockinfile, { path: '/x', marker_end: 'E\n' }).some((e) => e.startsWith('marker_end:')));
    assert.ok(argErrors(blockinfile, { path: '/x', block: 'a', content: 'b' }).length > 0);
    assert.ok(argErrors(blockinfile, { path: '/x', insertafter: '(', block: 'x' }).length > 0);
  });
});

describe('blockinfile on a real file (local connection)', () => {
  it('missing file: rc 257 without create; create makes it; second run ok', async () => {
    const p = join(dir, 'sub', 'new.conf');
    const missing = await run(blockinfile, { path: p, block: 'x=1' });
    assert.equal(missing.result.failed, true);
    assert.equal(missing.result.msg, `Path ${p} does not exist !`);
    assert.equal(missing.result.rc, 257);
    const r = await converge({ path: p, block: 'x=1', create: true, mode: '0640' });
    assert.equal(r.msg, 'File created');
    assert.equal(readFileSync(p, 'utf8'), `${M0}x=1\n${M1}`);
  });

  it('Block inserted, replaced, then removed; absent on a missing file is ok', async () => {
    const p = join(dir, 'interfaces');
    writeFileSync(p, 'auto lo\niface lo inet loopback\n');
    assert.equal((await converge({ path: p, block: 'auto vmbr1\n' })).msg, 'Block inserted');
    assert.equal((await converge({ path: p, block: 'auto vmbr2\n' })).msg, 'Block inserted');
    assert.equal(readFileSync(p, 'utf8'), `auto lo\niface lo inet loopback\n${M0}auto vmbr2\n${M1}`);
    const removed = await converge({ path: p, state: 'absent' });
    assert.equal(removed.msg, 'Block removed');
    assert.equal(readFileSync(p, 'utf8'), 'auto lo\niface lo inet loopback\n');
    const none = await run(blockinfile, { path: join(dir, 'nope'), state: 'absent' });
    assert.equal(none.result.changed, false);
    assert.equal(none.result.msg, `File ${join(dir, 'nope')} not present`);
  });

  it('a block holding its own marker line is refused before anything is written', async () => {
    const p = join(dir, 'evil');
    writeFileSync(p, 'a\n');
    const r = await run(blockinfile, { path: p, block: `x\n${M1}y` });
    assert.equal(r.result.failed, true);
    assert.match(String(r.result.msg), /contains one of its marker lines/);
    assert.equal(readFileSync(p, 'utf8'), 'a\n');
  });

  it('a directory fails with rc 256', async () => {
    const r = await run(blockinfile, { path: dir, block: 'x' });
    assert.equal(r.result.msg, `Path ${dir} is a directory !`);
    assert.equal(r.result.rc, 256);
  });
});
