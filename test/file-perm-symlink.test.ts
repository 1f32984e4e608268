// file_perm never changes anything outside its tree through a symlink, not
// even one that a racer (a container's root writing its volume) puts in place
// between our reading of the tree and our chown/chmod. Real files, local
// connection, as root. The outside file is root-owned 0600, like a host secret.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, test } from 'node:test';
import filePerm from '../modules/file_perm.js';
import { LocalConnection } from '../src/connection/local.js';
import type { Connection } from '../src/connection/types.js';
import { createModuleContext, runModule } from '../src/module-runner.js';
import { NO_FOLLOW_SCRIPT } from '../src/remote/no-follow.js';
import { RacingConnection } from './helpers/racing-connection.js';

let base: string;
// each test has its own outside files, so that one test's damage does not fail the next
let outside: string;
let secret: string;
before(() => {
  base = mkdtempSync(join(tmpdir(), 'phx-perm-race-'));
});
beforeEach(() => {
  outside = mkdtempSync(join(tmpdir(), 'phx-perm-outside-'));
  secret = join(outside, 'secret');
  mkdirSync(join(outside, 'deep'));
  for (const p of [secret, join(outside, 'deep', 'b')]) {
    writeFileSync(p, 'root only\n');
    chmodSync(p, 0o600);
  }
});
afterEach(() => rmSync(outside, { recursive: true, force: true }));
after(() => rmSync(base, { recursive: true, force: true }));

const attrs = (p: string) => {
  const s = lstatSync(p);
  return `${s.uid}:${s.gid} ${(s.mode & 0o7777).toString(8)}`;
};
const untouched = (why: string) => {
  assert.equal(attrs(secret), '0:0 600', `${why}: the outside file kept its owner and mode`);
  assert.equal(attrs(join(outside, 'deep', 'b')), '0:0 600', `${why}: the outside tree kept its owner and mode`);
  assert.equal(attrs(outside), '0:0 700', `${why}: the outside directory kept its owner and mode`);
};

function makeTree(name: string, files = 5): string {
  const dir = join(base, name);
  mkdirSync(join(dir, 'sub', 'deep'), { recursive: true });
  for (let i = 0; i < files; i++) writeFileSync(join(dir, `f${i}`), 'x');
  writeFileSync(join(dir, 'sub', 'deep', 'b'), 'b');
  return dir;
}

const want = (path: string) => filePerm.args.parse({ path, recurse: true, owner: 100033, group: 100033, mode: '0664' });
const run = (path: string, conn: Connection) =>
  runModule(filePerm, want(path), createModuleContext({ host: 'local', conn, diff: false }));

test('a symlink in the tree to a root-only file outside: the outside file is left alone', async () => {
  const dir = makeTree('static');
  symlinkSync(secret, join(dir, 'evil'));
  symlinkSync(outside, join(dir, 'evil-dir'));
  const r = await run(dir, new LocalConnection());
  assert.equal(r.failed, undefined, String(r.msg));
  untouched('static link');
  assert.equal(attrs(join(dir, 'f0')), '100033:100033 664', 'the tree itself is changed');
  assert.equal(attrs(join(dir, 'sub', 'deep', 'b')), '100033:100033 664');
});

test('racer swaps files and a directory of the tree for symlinks after the tree was read: nothing outside changes', async () => {
  const dir = makeTree('swapped');
  const swap = () => {
    // what a container root can do in its volume between our find and our chown
    for (let i = 0; i < 5; i++) {
      renameSync(join(dir, `f${i}`), join(dir, `.old${i}`));
      symlinkSync(secret, join(dir, `f${i}`));
    }
    renameSync(join(dir, 'sub'), join(dir, '.oldsub'));
    symlinkSync(outside, join(dir, 'sub'));
  };
  const r = await run(dir, new RacingConnection(new LocalConnection(), swap));
  untouched('swapped after find');
  // the change is refused for the swapped names (not silently done elsewhere)
  assert.equal(r.failed, true);
  assert.match(String(r.msg), /f0: a symlink now: left alone/);
  assert.match(String(r.msg), /sub is not a directory \(a symlink\?\): left alone/);
  assert.equal(readFileSync(secret, 'utf8'), 'root only\n');
});

test('a background racer flipping names between file and symlink while file_perm runs: the outside file never changes', async () => {
  const dir = makeTree('racing', 40);
  // bounded: 3000 flips, each an atomic rename of a fresh link or file over one of the names
  const script = `i=0; while [ $i -lt 3000 ]; do
    n=f$((i % 40)); ln -sfn "$2" "$1/.l$n" && mv -fT "$1/.l$n" "$1/$n"; : > "$1/.r$n" && mv -fT "$1/.r$n" "$1/$n"
    i=$((i + 1)); done`;
  const racer = spawn('sh', ['-c', script, 'racer', dir, secret], { stdio: 'ignore' });
  const done = new Promise<void>((res) => racer.on('exit', () => res()));
  let finished = false;
  void done.then(() => (finished = true));
  let runs = 0;
  try {
    while (!finished && runs < 60) {
      await run(dir, new LocalConnection());
      runs++;
      untouched(`run ${runs}`);
    }
  } finally {
    racer.kill('SIGKILL');
    await done;
  }
  untouched('after the racer');
  assert.ok(runs > 0);
});

test('the no-follow script can be given to find -exec … {} + (it holds no "{}" of its own)', () => {
  assert.equal(NO_FOLLOW_SCRIPT.includes('{}'), false);
});
