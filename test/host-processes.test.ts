// How many processes the common reads start on the host (issue 19: every
// fork+exec costs the host ~1 ms of CPU that competes with the controller).
// Each command the scripts may run is put on PATH as a wrapper that logs its
// name and then runs the real program, so the tests count what a read spawns:
// the parent of an existing dest is not stat'ed, content read whole is hashed
// on the controller (no sha1sum), a batch needs no temp file (no mktemp, cat,
// rm) and stat's probe runs in the batch's own shell (no `sh -c`). Results stay
// what the real programs say.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalConnection } from '../src/connection/local.js';
import { createModuleContext, runModule } from '../src/module-runner.js';
import type { ModuleContext } from '../src/module.js';
import { putFacts, putPlan } from '../src/remote/put-content.js';
import { probe } from '../src/remote/probe.js';
import { runBatch } from '../src/remote/batch.js';
import file from '../modules/file.js';
import stat from '../modules/stat.js';
import { removeDir, tempDir } from './modules-harness.js';

const COUNTED = [
  'stat',
  'sha1sum',
  'sha256sum',
  'md5sum',
  'base64',
  'readlink',
  'mktemp',
  'cat',
  'rm',
  'sh',
  'file',
  'id',
  'getent',
];
let dir = '';
let shims = '';
let log = '';

before(() => {
  dir = tempDir('phx-procs-');
  shims = join(dir, 'bin');
  log = join(dir, 'spawned.log');
  mkdirSync(shims);
  for (const name of COUNTED) {
    const real = ['/usr/bin', '/bin'].map((d) => join(d, name)).find((p) => existsSync(p));
    assert.ok(real, `${name} is installed`);
    writeFileSync(join(shims, name), `#!/bin/sh\necho ${name} >> '${log}'\nexec ${real} "$@"\n`);
    chmodSync(join(shims, name), 0o755);
  }
});
after(() => removeDir(dir));

/** A context whose commands find only the wrappers on PATH. */
function ctx(o: { diff?: boolean } = {}): ModuleContext {
  return createModuleContext({ host: 'localhost', conn: new LocalConnection(), env: { PATH: shims }, diff: o.diff });
}

/** The programs `read` started on the host, by name (sorted). */
async function spawned<T>(read: () => Promise<T>): Promise<{ value: T; names: string[] }> {
  writeFileSync(log, '');
  const value = await read();
  const names = readFileSync(log, 'utf8').split('\n').filter(Boolean).sort();
  return { value, names };
}

const realSum = (algo: string, path: string) => execFileSync(`${algo}sum`, [path]).toString().split(' ')[0];

test("copy's read of an existing dest stats it once (its parent is known to exist), a missing one's parent too", async () => {
  const dest = join(dir, 'existing.conf');
  writeFileSync(dest, 'old\n');
  const c = ctx();
  await probe(c, { identity: true }); // the identity (`id`) is asked once per connection: not counted below
  const present = await spawned(() => putFacts(c, { dest, diff: false }));
  assert.deepEqual(present.names, ['sha1sum', 'stat']);
  assert.equal(present.value.paths[0].checksum, realSum('sha1', dest));
  assert.deepEqual(present.value.paths[1], { exists: true, implied: true });

  const missing = await spawned(() => putFacts(c, { dest: join(dir, 'new.conf'), diff: false }));
  assert.deepEqual(missing.names, ['stat', 'stat']);
  assert.equal(missing.value.paths[1].type, 'directory');

  // the plan's answers are unchanged: an existing file is left alone, a missing parent is still an error
  const plan = putPlan(present.value, { dest, diff: false, content: Buffer.from('old\n'), backup: false, force: true });
  assert.deepEqual(plan.changes, []);
  const orphan = join(dir, 'no-such-dir', 'x.conf');
  const lost = await spawned(() => putFacts(c, { dest: orphan, diff: false }));
  assert.deepEqual(lost.names, ['stat', 'stat']);
  const refused = putPlan(lost.value, {
    dest: orphan,
    diff: false,
    content: Buffer.from('x'),
    backup: false,
    force: true,
  });
  assert.equal(refused.fail, `Destination directory ${join(dir, 'no-such-dir')} does not exist`);

  // pam_limits asks for the parent's own state (it checks its type): both in one stat (probe.ts batchedStat)
  const full = await spawned(() => putFacts(c, { dest, diff: false, parentState: true }));
  assert.deepEqual(full.names, ['sha1sum', 'stat']);
  assert.equal(full.value.paths[1].type, 'directory');
});

test('content read whole (lineinfile, --diff) is hashed on the controller: base64 but no sha1sum; the same checksum', async () => {
  const dest = join(dir, 'limits.conf');
  writeFileSync(dest, 'max_connections = 100\n\0binary\n');
  const c = ctx();
  await probe(c, { identity: true }); // the identity (`id`) is asked once per connection: not counted below
  const r = await spawned(() => putFacts(c, { dest, diff: false, readContent: true }));
  assert.deepEqual(r.names, ['base64', 'stat']);
  assert.equal(r.value.paths[0].checksum, realSum('sha1', dest));
  assert.deepEqual(r.value.paths[0].content, readFileSync(dest));

  const empty = join(dir, 'empty');
  writeFileSync(empty, '');
  const e = await spawned(() => probe(c, { paths: [{ path: empty, checksum: 'sha1', contentMax: 10 }] }));
  assert.deepEqual(e.names, ['base64', 'stat']);
  assert.equal(e.value.paths[0].checksum, realSum('sha1', empty));

  // larger than what is read: sha1sum on the host, as before
  const big = await spawned(() => probe(c, { paths: [{ path: dest, checksum: 'sha1', contentMax: 4 }] }));
  assert.deepEqual(big.names, ['sha1sum', 'stat']);
  assert.equal(big.value.paths[0].checksum, realSum('sha1', dest));
  assert.equal(big.value.paths[0].content, undefined);

  for (const algo of ['sha256', 'md5'] as const) {
    const other = await spawned(() => probe(c, { paths: [{ path: dest, checksum: algo, contentMax: 1000 }] }));
    assert.deepEqual(other.names, ['base64', 'stat']);
    assert.equal(other.value.paths[0].checksum, realSum(algo, dest));
  }
});

test('a batch spawns only its commands (no mktemp, cat, rm); stdout, stderr and rc stay apart, byte for byte', async () => {
  const r = await spawned(() =>
    runBatch(ctx(), [
      ['printf', 'a\\000b\\n'],
      ['sh', '-c', 'printf "err\\000no newline" >&2; printf out; exit 3'],
      ['readlink', '/nonexistent-phx'],
      { shell: 'x=$(printf "%s" "script in the batch shell"); echo "$x"; echo "e $x" >&2; false' },
    ]),
  );
  assert.deepEqual(r.names, ['readlink', 'sh']); // printf is a builtin
  assert.deepEqual(r.value, [
    { rc: 0, stdout: 'a\0b\n', stderr: '' },
    { rc: 3, stdout: 'out', stderr: 'err\0no newline' },
    { rc: 1, stdout: '', stderr: '' },
    { rc: 1, stdout: 'script in the batch shell\n', stderr: 'e script in the batch shell\n' },
  ]);
});

test("stat with get_mime: stat, sha1sum and file, nothing else (its probe runs in the batch's shell)", async () => {
  const p = join(dir, 'app.conf');
  writeFileSync(p, 'listen = 127.0.0.1\n');
  const c = ctx();
  const r = await spawned(() => runModule(stat, stat.args.parse({ path: p }), c));
  assert.deepEqual(r.names, ['file', 'sha1sum', 'stat']);
  const st = r.value.stat as Record<string, unknown>;
  assert.equal(st.checksum, realSum('sha1', p));
  assert.equal(st.mimetype, 'text/plain');
  assert.equal(st.exists, true);
});

test("file state=link on the link already there: the link's own stat, its target's text and src's stat (one stat for both); no stat of what it points to", async () => {
  const target = join(dir, 'motd');
  writeFileSync(target, 'hello\n');
  const link = join(dir, 'motd.link');
  symlinkSync('motd', link);
  const c = ctx();
  await probe(c, { identity: true }); // the identity (`id`) is asked once per connection: not counted below
  const linked = await spawned(() => runModule(file, file.args.parse({ src: 'motd', dest: link, state: 'link' }), c));
  assert.deepEqual(linked.names, ['stat']);
  assert.equal(linked.value.changed, false);
  // with follow (the default) a state that acts through the link still reads what it points to
  const through = await spawned(() => runModule(file, file.args.parse({ path: link, mode: '0600' }), c));
  assert.deepEqual(through.names, ['stat', 'stat']);
  assert.equal(readFileSync(target, 'utf8'), 'hello\n');
});
