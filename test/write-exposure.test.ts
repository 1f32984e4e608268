// How copy/template write a file (src/remote/write.ts), seen from the host
// (a local connection: the host is this machine): a mode 0600 file is never
// readable by others, not even as a temp file while its content arrives;
// owner and setuid mode both hold; an owner is given only in a directory
// reached without symlinks.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
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
import { after, before, it } from 'node:test';
import copy from '../modules/copy.js';
import lineinfile from '../modules/lineinfile.js';
import template from '../modules/template.js';
import { writeFileScript } from '../src/remote/write.js';
import { createUser, removeDir, run, tempDir, type TestUser } from './modules-harness.js';

let dir: string;
let ctrl: string;
let user: TestUser;
const USER = 'phxwritetest';
before(() => {
  dir = tempDir('phx-write-');
  ctrl = tempDir('phx-write-ctrl-');
  user = createUser(USER);
});
after(() => {
  removeDir(dir);
  removeDir(ctrl);
  user.remove();
});

/** Polls `where` until stopped; returns every name seen with a mode that group or others can use. */
function watchModes(where: string): { stop: () => Promise<string[]> } {
  const broad = new Set<string>();
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const name of readdirSync(where)) {
        try {
          const m = lstatSync(join(where, name)).mode & 0o7777;
          if (m & 0o077) broad.add(`${name} ${m.toString(8)}`);
        } catch {
          /* renamed meanwhile */
        }
      }
      await new Promise((r) => setImmediate(r));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return [...broad];
    },
  };
}

it('a mode 0600 copy of 32 MB: no temp file or destination is ever broader than 0600; the temp is created under umask 077', async () => {
  const where = join(dir, 'secret');
  mkdirSync(where);
  const blob = randomBytes(32 * 1024 * 1024);
  writeFileSync(join(ctrl, 'key.bin'), blob);
  const watcher = watchModes(where);
  const r = await run(copy, { src: join(ctrl, 'key.bin'), dest: join(where, 'key.bin'), mode: '0600' });
  const broad = await watcher.stop();
  assert.equal(r.result.failed, undefined, String(r.result.msg));
  assert.ok(readFileSync(join(where, 'key.bin')).equals(blob));
  assert.equal(statSync(join(where, 'key.bin')).mode & 0o7777, 0o600);
  assert.deepEqual(broad, [], 'nothing in the directory was ever readable by group or others');
  assert.deepEqual(readdirSync(where), ['key.bin'], 'no temp file left');

  const write = r.commands.find((c) => c.includes('.key.bin.phx-'))!;
  assert.ok(write, 'the content goes to a .<name>.phx-<random> temp file');
  const order = ['umask 077', 'exec 3>', 'conv=fsync', 'chmod 0600', 'mv -f'].map((s) => write.indexOf(s));
  assert.ok(
    order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1])),
    `temp created under umask 077, filled and synced, then chmod, then renamed: ${write}`,
  );
});

it('template with mode 0600 writes the same way', async () => {
  writeFileSync(join(ctrl, 'app.conf.hbs'), 'password = {{ pw }}\n');
  const dest = join(dir, 'app.conf');
  const r = await run(template, { src: 'app.conf.hbs', dest, mode: '0600' }, { baseDir: ctrl, vars: { pw: 's3cret' } });
  assert.equal(r.result.failed, undefined, String(r.result.msg));
  assert.equal(readFileSync(dest, 'utf8'), 'password = s3cret\n');
  assert.equal(statSync(dest).mode & 0o7777, 0o600);
  const write = r.commands.find((c) => c.includes('.app.conf.phx-'))!;
  assert.ok(write.indexOf('umask 077') >= 0 && write.indexOf('umask 077') < write.indexOf('exec 3>'));
});

it('owner with a setuid mode: chown comes first, so the setuid bit survives', async () => {
  const dest = join(dir, 'tool');
  const r = await run(copy, { content: '#!/bin/sh\n', dest, owner: USER, group: USER, mode: '4750' });
  assert.equal(r.result.failed, undefined, String(r.result.msg));
  assert.equal(statSync(dest).uid, user.uid);
  assert.equal(statSync(dest).mode & 0o7777, 0o4750);
});

it('an owner is not given through a symlinked directory (a writer of the link could choose where); without owner it is followed', async () => {
  const real = join(dir, 'real');
  mkdirSync(real);
  symlinkSync(real, join(dir, 'via-link'));
  const owned = await run(copy, { content: 'x\n', dest: join(dir, 'via-link', 'owned.conf'), owner: USER });
  assert.equal(owned.result.failed, true);
  assert.match(
    String(owned.result.msg),
    /not giving it an owner or group through a symlink .* use the real path .*real/,
  );
  assert.equal(existsSync(join(real, 'owned.conf')), false);
  assert.deepEqual(readdirSync(real), [], 'no temp file left behind');

  const plain = await run(copy, { content: 'x\n', dest: join(dir, 'via-link', 'plain.conf') });
  assert.equal(plain.result.failed, undefined, String(plain.result.msg));
  assert.equal(readFileSync(join(real, 'plain.conf'), 'utf8'), 'x\n');
  const direct = await run(copy, { content: 'x\n', dest: join(real, 'owned.conf'), owner: USER });
  assert.equal(direct.result.failed, undefined, String(direct.result.msg));
  assert.equal(statSync(join(real, 'owned.conf')).uid, user.uid);
});

it('a racer swapping the temp file for a symlink to a root-only file: that file never changes, dest is not the link', async () => {
  const where = join(dir, 'shared');
  mkdirSync(where);
  const outside = tempDir('phx-write-outside-');
  const secret = join(outside, 'secret');
  writeFileSync(secret, 'root only\n', { mode: 0o600 });
  // bounded: about 10 s at most; steals every temp file it sees and leaves a symlink in its place
  const script = `i=0; while [ $i -lt 20000 ]; do
    for f in "$1"/.big.phx-*; do [ -f "$f" ] && [ ! -L "$f" ] && mv "$f" "$f.stolen" && ln -s "$2" "$f"; done
    i=$((i + 1)); done`;
  const racer = spawn('sh', ['-c', script, 'racer', where, secret], { stdio: 'ignore' });
  const gone = new Promise<void>((r) => racer.on('exit', () => r()));
  try {
    writeFileSync(join(ctrl, 'big'), randomBytes(16 * 1024 * 1024));
    for (let i = 0; i < 3; i++) {
      const r = await run(copy, { src: join(ctrl, 'big'), dest: join(where, 'big'), owner: 100033, mode: '0664' });
      const s = statSync(secret);
      assert.deepEqual([s.uid, s.mode & 0o7777], [0, 0o600], `run ${i}: the outside file kept its owner and mode`);
      if (r.result.failed) assert.match(String(r.result.msg), /replaced while being written; the old file is kept/);
      if (existsSync(join(where, 'big'))) assert.equal(lstatSync(join(where, 'big')).isSymbolicLink(), false);
    }
  } finally {
    racer.kill('SIGKILL');
    await gone;
    removeDir(outside);
  }
});

it('lineinfile rewrites a 0600 file the same way (temp under umask 077, then rename)', async () => {
  const path = join(dir, 'secrets.env');
  writeFileSync(path, 'A=1\n', { mode: 0o600 });
  const r = await run(lineinfile, { path, line: 'B=2' });
  assert.equal(r.result.failed, undefined, String(r.result.msg));
  assert.equal(readFileSync(path, 'utf8'), 'A=1\nB=2\n');
  assert.equal(statSync(path).mode & 0o7777, 0o600);
  const write = r.commands.find((c) => c.includes('.secrets.env.phx-'))!;
  assert.ok(write.indexOf('umask 077') >= 0 && write.indexOf('umask 077') < write.indexOf('exec 3>'));
  assert.deepEqual(
    readdirSync(dir).filter((n) => n.includes('.phx-')),
    [],
  );
});

it('input that ends early (a cut transfer) keeps the old file and removes the temp, whole-stream and exact-length reads alike', () => {
  const dest = join(dir, 'cut.conf');
  for (const exactStdin of [false, true]) {
    writeFileSync(dest, 'old\n', { mode: 0o644 });
    const script = writeFileScript(dest, { mode: 0o600, size: 1000, exactStdin });
    const r = spawnSync('sh', ['-c', script], { input: Buffer.alloc(400, 'x'), encoding: 'utf8' });
    assert.notEqual(r.status, 0, `exactStdin ${exactStdin}: fails`);
    assert.match(r.stderr, /did not arrive whole \(connection cut\?\); the old file is kept/);
    assert.equal(readFileSync(dest, 'utf8'), 'old\n');
    assert.equal(statSync(dest).mode & 0o7777, 0o644);
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.startsWith('.cut.conf.phx-')),
      [],
      'no temp file left',
    );
  }
});
