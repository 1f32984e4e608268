// The file and copy modules never chown/chmod through a symlink that was not
// there when they read the host (a container root racing in its volume), while
// a link that was there is still followed when follow: true asks for it
// (Ansible's default). Real files, local connection, as root.
import assert from 'node:assert/strict';
import { chmodSync, lstatSync, mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, it } from 'node:test';
import copy from '../modules/copy.js';
import file from '../modules/file.js';
import { LocalConnection } from '../src/connection/local.js';
import type { ModuleDefinition } from '../src/module.js';
import { RacingConnection } from './helpers/racing-connection.js';
import { removeDir, run, tempDir } from './modules-harness.js';

let base: string;
let outside: string;
let secret: string;
before(() => (base = tempDir('phx-file-race-')));
after(() => removeDir(base));
beforeEach(() => {
  outside = tempDir('phx-file-outside-');
  chmodSync(outside, 0o700);
  secret = join(outside, 'secret');
  writeFileSync(secret, 'root only\n');
  chmodSync(secret, 0o600);
});
afterEach(() => removeDir(outside));

const attrs = (p: string) => {
  const s = lstatSync(p);
  return `${s.uid}:${s.gid} ${(s.mode & 0o7777).toString(8)}`;
};
const untouched = () => assert.equal(attrs(secret), '0:0 600', 'the outside file kept its owner and mode');

/** Replaces `path` by a symlink to the outside secret, as a racer would. */
const swapForLink = (path: string) => () => {
  renameSync(path, `${path}.old`);
  symlinkSync(secret, path);
};
const racing = (def: ModuleDefinition, args: Record<string, unknown>, racer: () => void) =>
  run(def, args, { conn: new RacingConnection(new LocalConnection(), racer) });

it('file recurse: entries swapped for symlinks after the tree was read are left alone', async () => {
  const dir = join(base, 'tree');
  mkdirSync(join(dir, 'sub'), { recursive: true });
  for (const n of ['a', 'b', 'sub/c']) writeFileSync(join(dir, n), 'x');
  const r = await racing(
    file,
    { path: dir, state: 'directory', recurse: true, owner: 100033, group: 100033, mode: '0664' },
    () => {
      swapForLink(join(dir, 'a'))();
      swapForLink(join(dir, 'sub', 'c'))();
    },
  );
  untouched();
  assert.equal(r.result.failed, true);
  assert.match(String(r.result.msg), /a symlink now: left alone/);
});

it('file state file, follow: false: a path swapped for a symlink after it was read is left alone', async () => {
  const path = join(base, 'conf');
  writeFileSync(path, 'x');
  const r = await racing(file, { path, state: 'file', follow: false, owner: 100033, mode: '0664' }, swapForLink(path));
  untouched();
  assert.equal(r.result.failed, true);
  assert.match(String(r.result.msg), /a symlink now: left alone/);
});

it('file state file, follow: true (the default) on an existing symlink still changes its target, as Ansible does', async () => {
  const target = join(base, 'target');
  writeFileSync(target, 'x');
  chmodSync(target, 0o600);
  const link = join(base, 'link-to-target');
  symlinkSync(target, link);
  const r = await run(file, { path: link, state: 'file', owner: 100033, mode: '0640' });
  assert.equal(r.result.failed, undefined, String(r.result.msg));
  assert.equal(attrs(target), '100033:0 640');
  const refused = await run(file, { path: link, state: 'file', follow: false, mode: '0600' });
  assert.equal(refused.result.failed, true, 'follow: false on a link is not a file');
  assert.equal(attrs(target), '100033:0 640');
});

it('copy with only owner/mode to fix: a destination swapped for a symlink after it was read is left alone', async () => {
  const dest = join(base, 'same.conf');
  writeFileSync(dest, 'same\n');
  const r = await racing(copy, { content: 'same\n', dest, owner: 100033, mode: '0664' }, swapForLink(dest));
  untouched();
  assert.equal(r.result.failed, true);
});

it('a relative path (even one starting with a dash) gets its owner and mode', async () => {
  const rel = `-phx-rel-${process.pid}`;
  try {
    const r = await run(file, { path: rel, state: 'directory', owner: 100033, mode: '0701' });
    assert.equal(r.result.failed, undefined, String(r.result.msg));
    assert.equal(attrs(rel), '100033:0 701');
    const c = await run(copy, { content: 'x\n', dest: `${rel}/f`, owner: 100033, mode: '0640' });
    assert.equal(c.result.failed, undefined, String(c.result.msg));
    assert.equal(attrs(`${rel}/f`), '100033:0 640');
  } finally {
    removeDir(rel);
  }
});
