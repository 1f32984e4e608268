import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import copy from '../modules/copy.js';
import { argErrors, comparable, createUser, removeDir, run, snapshot, tempDir } from './modules-harness.js';

let dir: string;
let ctrl: string;
let user: ReturnType<typeof createUser>;
const USER = 'phxcopytest';
before(() => {
  dir = tempDir();
  ctrl = tempDir('phx-ctrl-');
  mkdirSync(join(ctrl, 'files'));
  writeFileSync(join(ctrl, 'files', 'motd'), 'welcome\n', { mode: 0o640 });
  writeFileSync(join(ctrl, 'blob.bin'), Buffer.from([0, 1, 2, 255]));
  user = createUser(USER);
});
after(() => {
  removeDir(dir);
  removeDir(ctrl);
  user.remove();
});

const sha1 = (s: string | Buffer) => createHash('sha1').update(s).digest('hex');
const mode = (p: string) => (lstatSync(p).mode & 0o7777).toString(8).padStart(4, '0');

async function converge(args: Record<string, unknown>) {
  const snap = snapshot(dir);
  const check = await run(copy, args, { check: true, diff: true, baseDir: ctrl });
  assert.deepEqual(snapshot(dir), snap, 'check mode changed nothing');
  const real = await run(copy, args, { diff: true, baseDir: ctrl });
  assert.equal(real.result.failed, undefined, String(real.result.msg));
  assert.deepEqual(comparable(check.result), comparable(real.result), 'check predicted the real result');
  assert.deepEqual(check.result.diff, real.result.diff);
  assert.ok(real.roundTrips <= 2, `round trips ${real.roundTrips}`);
  const again = await run(copy, args, { baseDir: ctrl });
  assert.equal(again.result.changed, false, 'second run is ok');
  assert.equal(again.roundTrips, 1);
  assert.deepEqual(comparable(again.result), comparable({ ...real.result, changed: false }, ['msg']));
  return { check: check.result, real: real.result };
}

describe('copy', () => {
  it('content: creates with owner/group/mode in 2 round trips, result like Ansible', async () => {
    const dest = join(dir, 'app.conf');
    const content = 'a = 1\nquote = "$(touch /tmp/phx-pwned)" \'x\'\n-dash\n';
    const { real } = await converge({ content, dest, owner: USER, group: USER, mode: '0640' });
    assert.equal(readFileSync(dest, 'utf8'), content);
    assert.equal(mode(dest), '0640');
    assert.equal(statSync(dest).uid, user.uid);
    assert.equal(statSync(dest).gid, user.gid);
    assert.deepEqual(comparable(real, ['msg']), {
      changed: true,
      dest,
      checksum: sha1(content),
      size: Buffer.byteLength(content),
      state: 'file',
      mode: '0640',
      owner: USER,
      group: USER,
      uid: user.uid,
      gid: user.gid,
    });
    assert.deepEqual(real.diff, { before: '', after: content, before_header: `${dest} (absent)`, after_header: dest });
    assert.equal(existsSync('/tmp/phx-pwned'), false);
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.includes('phx-')),
      [],
      'no temp file left',
    );
  });

  it('changed content keeps the old mode/owner, diff shows before/after, backup kept', async () => {
    const dest = join(dir, 'app.conf');
    const { real } = await converge({ content: 'a = 2\n', dest, backup: true });
    assert.equal(mode(dest), '0640');
    assert.equal(statSync(dest).uid, user.uid);
    assert.deepEqual(real.diff && !Array.isArray(real.diff) ? [real.diff.before, real.diff.after] : [], [
      readFileSync(real.backup_file as string, 'utf8'),
      'a = 2\n',
    ]);
    assert.match(String(real.backup_file), /app\.conf\.\d+\.\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d~$/);
  });

  it('only mode differs: chmod without rewriting', async () => {
    const dest = join(dir, 'app.conf');
    const ino = statSync(dest).ino;
    const { real } = await converge({ content: 'a = 2\n', dest, mode: 'u=rw,g=r,o=r' });
    assert.equal(mode(dest), '0644');
    assert.equal(statSync(dest).ino, ino);
    assert.equal(real.changed, true);
  });

  it('src from files/, into a directory dest, mode preserve; binary diff placeholder', async () => {
    mkdirSync(join(dir, 'etc'));
    const { real } = await converge({ src: 'motd', dest: join(dir, 'etc'), mode: 'preserve' });
    assert.equal(real.dest, join(dir, 'etc', 'motd'));
    assert.equal(real.src, 'motd');
    assert.equal(mode(join(dir, 'etc', 'motd')), '0640');
    const bin = await converge({ src: 'blob.bin', dest: join(dir, 'new dir') + '/' });
    assert.deepEqual(readFileSync(join(dir, 'new dir', 'blob.bin')), Buffer.from([0, 1, 2, 255]));
    assert.equal(
      bin.real.diff && !Array.isArray(bin.real.diff) ? bin.real.diff.after : '',
      '(binary content not shown)\n',
    );
  });

  it('force: false leaves a differing file alone; symlinked dest is replaced, target untouched', async () => {
    const dest = join(dir, 'keep');
    writeFileSync(dest, 'mine');
    const r = await run(copy, { content: 'theirs', dest, force: false, mode: '0600' });
    assert.equal(r.result.changed, false);
    assert.equal(r.result.mode, mode(dest), 'attributes left alone too');
    assert.equal(readFileSync(dest, 'utf8'), 'mine');
    const target = join(dir, 'target');
    writeFileSync(target, 'T');
    symlinkSync(target, join(dir, 'via-link'));
    await converge({ content: 'L', dest: join(dir, 'via-link') });
    assert.equal(readFileSync(target, 'utf8'), 'T');
  });

  it('validate runs on the temp file before it replaces dest', async () => {
    const dest = join(dir, 'validated');
    const bad = await run(copy, { content: 'broken', dest, validate: 'grep -qx ok %s' });
    assert.equal(bad.result.failed, true);
    assert.equal(existsSync(dest), false);
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.includes('.phx-')),
      [],
    );
    await converge({ content: 'ok\n', dest, validate: 'grep -qx ok %s' });
  });

  it('hostile dest names and missing parent', async () => {
    for (const name of ['-rf', '$(id) x', 'q\'"', 'new\nline']) {
      const dest = join(dir, name);
      await converge({ content: name, dest });
      assert.equal(readFileSync(dest, 'utf8'), name);
    }
    const missing = await run(copy, { content: 'x', dest: join(dir, 'no', 'such', 'f') });
    assert.equal(missing.result.failed, true);
    assert.equal(missing.result.msg, `Destination directory ${join(dir, 'no', 'such')} does not exist`);
    const contentToDir = await run(copy, { content: 'x', dest: dir });
    assert.equal(contentToDir.result.msg, 'can not use content with a dir as dest');
  });

  it('become: the write and the facts run as the become user', async () => {
    const denied0 = await run(copy, { content: 'x', dest: join(dir, 'sub', 'f') }, { become: { user: USER } });
    assert.match(String(denied0.result.msg), /Permission denied/, 'an unreadable parent is not "missing"');
    chmodSync(dir, 0o711);
    const home = join(dir, 'userhome');
    mkdirSync(home);
    chownSync(home, user.uid, user.gid);
    const dest = join(home, 'mine.txt');
    const r = await run(copy, { content: 'by user\n', dest }, { become: { user: USER } });
    assert.equal(r.result.failed, undefined, String(r.result.msg));
    assert.equal(r.result.owner, USER);
    assert.equal(statSync(dest).uid, user.uid);
    assert.ok(r.roundTrips <= 2);
    assert.equal((await run(copy, { content: 'by user\n', dest }, { become: { user: USER } })).result.changed, false);
    const denied = await run(copy, { content: 'x', dest: '/root/phx-denied' }, { become: { user: USER } });
    assert.equal(denied.result.failed, true);
  });

  it('a directory src: every file in 2 round trips, second run ok, one changed file rewritten alone', async () => {
    const site = join(ctrl, 'files', 'site');
    mkdirSync(join(site, 'css'), { recursive: true });
    mkdirSync(join(site, 'bin'));
    writeFileSync(join(site, 'index.html'), '<h1>hi</h1>\n');
    writeFileSync(join(site, 'css', 'a.css'), 'a{}');
    writeFileSync(join(site, 'bin', 'run $(id).sh'), '#!/bin/sh\n', { mode: 0o755 });
    writeFileSync(join(site, 'empty'), '');
    const dest = join(dir, 'www');
    const args = { src: 'site', dest, owner: USER, directory_mode: '0750' };
    const { real } = await converge(args);
    assert.equal(real.dest, dest);
    assert.equal(real.state, 'directory');
    assert.equal(readFileSync(join(dest, 'site', 'bin', 'run $(id).sh'), 'utf8'), '#!/bin/sh\n');
    assert.equal(readFileSync(join(dest, 'site', 'empty'), 'utf8'), '');
    assert.equal(mode(join(dest, 'site', 'css')), '0750');
    assert.equal(statSync(join(dest, 'site', 'css', 'a.css')).uid, user.uid);
    assert.equal(statSync(join(dest, 'site')).uid, user.uid);
    assert.equal(Array.isArray(real.diff) ? real.diff.length : -1, 4);
    writeFileSync(join(site, 'css', 'a.css'), 'a{color:red}');
    const again = await converge(args);
    assert.deepEqual(Array.isArray(again.real.diff) ? again.real.diff.map((d) => d.after) : [], ['a{color:red}']);
    const contents = await converge({ src: 'site/', dest: join(dir, 'www2'), mode: '0600' });
    assert.equal(contents.real.changed, true);
    assert.equal(mode(join(dir, 'www2', 'index.html')), '0600');
    assert.equal(readFileSync(join(dir, 'www2', 'css', 'a.css'), 'utf8'), 'a{color:red}');
  });

  it('rejects bad arguments with clear messages', () => {
    assert.match(argErrors(copy, { content: 'x' }).join(), /dest/);
    assert.match(argErrors(copy, { dest: '/x' }).join(), /exactly one of: src, content/);
    assert.match(argErrors(copy, { dest: '/x', content: 'a', src: 'b' }).join(), /exactly one of/);
    assert.match(argErrors(copy, { dest: '/x', content: 'a', mode: '999' }).join(), /mode/);
    assert.match(
      argErrors(copy, { dest: '/x', content: 'a', validate: 'visudo -c' }).join(),
      /validate must contain %s/,
    );
    assert.match(argErrors(copy, { dest: '/x', content: 'a', ownr: 'root' }).join(), /ownr/);
  });
});
