import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import file from '../modules/file.js';
import { argErrors, comparable, removeDir, run, snapshot, useTempDirAndUser } from './modules-harness.js';

const USER = 'phxfiletest';
const scratch = useTempDirAndUser(USER);

const mode = (p: string) => (lstatSync(p).mode & 0o7777).toString(8).padStart(4, '0');

/** check run (no change on disk) → real run (same prediction) → second run (ok). */
async function converge(args: Record<string, unknown>, dropFromCompare: string[] = []) {
  const snap = snapshot(scratch.dir);
  const check = await run(file, args, { check: true, diff: true });
  assert.deepEqual(snapshot(scratch.dir), snap, 'check mode changed nothing');
  const real = await run(file, args, { diff: true });
  assert.equal(real.result.failed, undefined, String(real.result.msg));
  assert.deepEqual(
    comparable(check.result, dropFromCompare),
    comparable(real.result, dropFromCompare),
    'check predicted the real result',
  );
  assert.ok(real.roundTrips <= 2, `round trips ${real.roundTrips}: ${real.commands.join('\n')}`);
  const again = await run(file, args);
  assert.equal(again.result.changed, false, 'second run is ok');
  assert.equal(again.roundTrips, 1);
  return { check: check.result, real: real.result, again: again.result };
}

describe('file', () => {
  it('creates nested directories with owner/group/mode, like Ansible on every created level', async () => {
    const p = join(scratch.dir, 'a', 'b c', 'd');
    const r = await converge({ path: p, state: 'directory', owner: USER, group: USER, mode: '0750' });
    assert.equal(r.real.changed, true);
    assert.equal(r.real.path, p);
    assert.equal(r.real.state, 'directory');
    assert.equal(r.real.mode, '0750');
    assert.equal(r.real.owner, USER);
    assert.equal(r.real.uid, scratch.user.uid);
    assert.equal(r.real.gid, scratch.user.gid);
    for (const d of [join(scratch.dir, 'a'), join(scratch.dir, 'a', 'b c'), p]) {
      assert.equal(mode(d), '0750');
      assert.equal(statSync(d).uid, scratch.user.uid);
    }
    assert.match(r.real.diff && !Array.isArray(r.real.diff) ? r.real.diff.before : '', /state: absent/);
    assert.match(
      r.real.diff && !Array.isArray(r.real.diff) ? r.real.diff.after : '',
      /state: directory\nowner: phxfiletest/,
    );
    assert.deepEqual(comparable(r.again), comparable({ ...r.real, changed: false, size: statSync(p).size }, ['msg']));
  });

  it('changes mode (symbolic and YAML-int) and owner by number of an existing file', async () => {
    const p = join(scratch.dir, 'plain');
    writeFileSync(p, 'x', { mode: 0o644 });
    const r = await converge({ dest: p, mode: 'u=rw,g=,o=' });
    assert.equal(mode(p), '0600');
    assert.equal(r.real.state, 'file');
    assert.equal(r.real.size, 1);
    assert.deepEqual(r.real.diff, {
      before: `path: ${p}\nstate: file\nmode: 0644\n`,
      after: `path: ${p}\nstate: file\nmode: 0600\n`,
      before_header: p,
      after_header: p,
    });
    await converge({ name: p, mode: 0o640, owner: scratch.user.uid });
    assert.equal(mode(p), '0640');
    assert.equal(statSync(p).uid, scratch.user.uid);
  });

  it('state file on a missing path fails like Ansible; unknown owner fails', async () => {
    const missing = await run(file, { path: join(scratch.dir, 'missing'), state: 'file' });
    assert.equal(missing.result.failed, true);
    assert.equal(missing.result.msg, `file (${join(scratch.dir, 'missing')}) is absent, cannot continue`);
    const p = join(scratch.dir, 'plain');
    const nobody = await run(file, { path: p, owner: 'no-such-user-xyz' });
    assert.equal(nobody.result.failed, true);
    assert.equal(nobody.result.msg, 'chown failed: failed to look up user no-such-user-xyz');
    const asDir = await run(file, { path: p, state: 'directory' });
    assert.equal(asDir.result.msg, `${p} already exists as a file`);
  });

  it('touch creates, then always touches (Ansible); preserve times make it idempotent', async () => {
    const p = join(scratch.dir, 'touched');
    const first = await run(file, { path: p, state: 'touch', mode: '0600' });
    assert.equal(first.result.changed, true);
    assert.equal(first.result.dest, p);
    assert.equal(first.result.size, 0);
    assert.equal(mode(p), '0600');
    assert.equal((await run(file, { path: p, state: 'touch' })).result.changed, true);
    const keep = { path: p, state: 'touch', access_time: 'preserve', modification_time: 'preserve' };
    assert.equal((await run(file, keep)).result.changed, false);
  });

  it('absent removes a tree, then is ok', async () => {
    const p = join(scratch.dir, 'gone');
    mkdirSync(join(p, 'sub'), { recursive: true });
    writeFileSync(join(p, 'sub', 'f'), 'x');
    const r = await converge({ path: p, state: 'absent' });
    assert.equal(existsSync(p), false);
    assert.deepEqual(comparable(r.real, ['msg']), { changed: true, path: p, state: 'absent' });
  });

  it('symlinks: create, keep, retarget; refuses to replace a file without force', async () => {
    const target = join(scratch.dir, 'plain');
    const link = join(scratch.dir, 'the link');
    const r = await converge({ path: link, src: target, state: 'link' });
    assert.equal(readlinkSync(link), target);
    assert.deepEqual(comparable(r.real, ['msg']), {
      changed: true,
      dest: link,
      src: target,
      state: 'link',
      uid: 0,
      gid: 0,
      owner: 'root',
      group: 'root',
      mode: '0777',
      size: Buffer.byteLength(target),
    });
    await converge({ path: link, src: 'touched', state: 'link' });
    assert.equal(readlinkSync(link), 'touched');
    const refuse = await run(file, { path: target, src: link, state: 'link' });
    assert.equal(refuse.result.msg, `refusing to convert from file to symlink for ${target}`);
    const dangling = await run(file, { path: join(scratch.dir, 'dangling'), src: '/nonexistent/x', state: 'link' });
    assert.match(String(dangling.result.msg), /src file does not exist/);
    await converge({ path: join(scratch.dir, 'dangling'), src: '/nonexistent/x', state: 'link', force: true });
    const noState = await run(file, { path: join(scratch.dir, 'dangling') });
    assert.equal(noState.result.changed, false, String(noState.result.msg));
    assert.equal(noState.result.state, 'link');
    assert.equal(noState.result.src, '/nonexistent/x');
  });

  // GNU chmod keeps a directory's setuid/setgid bits for a numeric mode of fewer
  // than 5 digits (coreutils doc/perm.texi, "Directories and the Set-User-ID and
  // Set-Group-ID Bits"); file changes a followed link's target with plain chmod,
  // the others with chmod(2) (src/remote/no-follow.ts): both reach the wanted bits.
  it('setgid/setuid of a directory, directly and through a followed link: one run converges, the second is ok', async () => {
    for (const [start, want] of [
      [0o2755, '0755'],
      [0o755, '2775'],
      [0o6755, '0750'],
    ] as const) {
      const dir = join(scratch.dir, `sg-${start.toString(8)}`);
      const link = `${dir}-link`;
      mkdirSync(dir);
      symlinkSync(dir, link);
      for (const path of [link, dir]) {
        chmodSync(dir, start);
        await converge({ path, state: 'directory', mode: want });
        assert.equal(mode(dir), want.padStart(4, '0'), `${path} from ${start.toString(8)}`);
      }
    }
  });

  it('hard links share the inode', async () => {
    const src = join(scratch.dir, 'hsrc');
    writeFileSync(src, 'data');
    const p = join(scratch.dir, 'hdst');
    await converge({ path: p, src, state: 'hard' });
    assert.equal(statSync(p).ino, statSync(src).ino);
  });

  it('recurse sets owner/mode only where they differ, links untouched', async () => {
    const root = join(scratch.dir, 'tree');
    mkdirSync(join(root, 'sub'), { recursive: true });
    writeFileSync(join(root, 'sub', 'script'), '#!/bin/sh', { mode: 0o755 });
    writeFileSync(join(root, 'data'), 'd');
    chmodSync(join(root, 'data'), 0o666);
    writeFileSync(join(root, 'ok'), 'd', { mode: 0o640 });
    symlinkSync('/etc/passwd', join(root, 'ln'));
    const r = await converge({ path: root, state: 'directory', recurse: true, owner: USER, mode: 'u=rwX,g=rX,o=' });
    assert.equal(mode(join(root, 'sub')), '0750');
    assert.equal(mode(join(root, 'sub', 'script')), '0750');
    assert.equal(mode(join(root, 'data')), '0640');
    assert.equal(statSync(join(root, 'ok')).uid, scratch.user.uid);
    assert.equal(lstatSync(join(root, 'ln')).uid, scratch.user.uid);
    assert.equal(statSync('/etc/passwd').uid, 0, 'did not follow the link');
    const diff = r.real.diff && !Array.isArray(r.real.diff) ? r.real.diff : undefined;
    assert.match(diff!.before, /^data: 0666 root:root$/m);
    assert.match(diff!.after, /^data: 0640 phxfiletest:root$/m);
  });

  it('recurse over a tree too big for one command line selects entries with find', async () => {
    const root = join(scratch.dir, 'big');
    mkdirSync(root);
    const long = 'n'.repeat(120);
    for (let i = 0; i < 700; i++) writeFileSync(join(root, `${long}${i}`), '');
    writeFileSync(join(root, 'keep'), '');
    chmodSync(join(root, 'keep'), 0o640);
    const r = await converge({ path: root, recurse: true, mode: '0640', group: USER });
    assert.match(r.real.msg as string, /below/);
    assert.equal(mode(join(root, `${long}5`)), '0640');
    assert.equal(statSync(join(root, `${long}699`)).gid, scratch.user.gid);
    assert.equal(statSync(join(root, 'keep')).gid, scratch.user.gid);
  });

  it('hostile names stay literal', async () => {
    for (const name of ['$(touch pwned)', '-rf', 'it\'s "quoted"', 'new\nline', ' spaced ']) {
      const p = join(scratch.dir, 'hostile', name);
      await converge({ path: p, state: 'directory', mode: '0700' });
      assert.equal(mode(p), '0700');
    }
    const rel = '-dash-dir';
    const r = await run(file, { path: rel, state: 'directory' });
    assert.equal(r.result.changed, true);
    assert.ok(existsSync(rel));
    removeDir(rel);
    assert.equal(existsSync(join(scratch.dir, 'hostile', 'pwned')), false);
    assert.equal(existsSync('pwned'), false);
  });

  it('rejects bad arguments with clear messages', () => {
    assert.match(argErrors(file, { path: '/x', stat: 'directory' }).join(), /stat/);
    assert.match(argErrors(file, { state: 'directory' }).join(), /path: path is required/);
    assert.match(argErrors(file, { path: '/x', dest: '/y' }).join(), /only one of path, dest, name/);
    assert.match(argErrors(file, { path: '/x', state: 'folder' }).join(), /state/);
    assert.match(argErrors(file, { path: '/x', mode: 'rwxr-xr-x' }).join(), /mode: mode "rwxr-xr-x" is neither octal/);
    assert.match(argErrors(file, { path: '/x', state: 'link' }).join(), /src: src is required with state link/);
    assert.match(argErrors(file, { path: '/x', recurse: 'yes please' }).join(), /recurse/);
  });
});
