// probe()'s script stats the paths it examines unconditionally in one stat process
// (src/remote/probe.ts batchedStat), and falls back to a stat per path whenever that one cannot
// vouch for every line: the answers must be byte for byte those of a path asked alone, for
// awkward names, links, missing paths, errors, and a stat that fails half way.
import { test, before, after } from 'node:test';
import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalConnection } from '../src/connection/local.js';
import { parseProbe, probeScript, type PathQuery, type ProbeRequest, type ProbeResult } from '../src/remote/probe.js';
import { removeDir, tempDir } from './modules-harness.js';

const conn = new LocalConnection();
let dir = '';
let shims = '';

before(() => {
  dir = tempDir('phx-probe-batch-');
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'plain.txt'), 'hello\n');
  writeFileSync(join(dir, 'new\nline "quoted" \\ tab\t.txt'), 'odd\n');
  writeFileSync(join(dir, '-dash'), 'dash\n');
  writeFileSync(join(dir, 'sub', 'big'), 'x'.repeat(5000));
  symlinkSync('plain.txt', join(dir, 'link'));
  symlinkSync('nowhere', join(dir, 'dangling'));
  // a batch's stat or sha1sum (`--` before the paths) that finds its first path gone: no line for
  // it, the others' lines, exit 1. What a batch sees when a path vanishes between its test and it.
  shims = join(dir, 'bin');
  mkdirSync(shims);
  for (const tool of ['stat', 'sha1sum']) {
    writeFileSync(
      join(shims, tool),
      [
        '#!/bin/sh',
        'PATH=/usr/bin:/bin',
        `case " $* " in *" -- "*) ;; *) exec ${tool} "$@";; esac`,
        'seen=0; drop=1',
        'for a in "$@"; do',
        '  shift',
        '  if [ $seen = 1 ] && [ $drop = 1 ]; then drop=0; else set -- "$@" "$a"; fi',
        '  [ "$a" = -- ] && seen=1',
        'done',
        `${tool} "$@"; exit 1`,
        '',
      ].join('\n'),
    );
    chmodSync(join(shims, tool), 0o755);
  }
});
after(() => removeDir(dir));

async function answer(req: ProbeRequest, path?: string): Promise<ProbeResult> {
  const r = await conn.exec(`${path ? `PATH=${path}; ` : ''}${probeScript(req)}`);
  assert.equal(r.rc, 0, r.stderr);
  return parseProbe(req, r.stdout);
}

/** Each path asked alone (no batch: a batch needs two). */
async function oneByOne(paths: PathQuery[]): Promise<ProbeResult['paths']> {
  const out: ProbeResult['paths'] = [];
  for (const q of paths) out.push((await answer({ paths: [q] })).paths[0]);
  return out;
}

const withoutAtime = (ps: ProbeResult['paths']) => ps.map(({ atime: _a, ...rest }) => rest);

function queries(): PathQuery[] {
  return [
    { path: join(dir, 'plain.txt'), checksum: 'sha1' },
    { path: join(dir, 'new\nline "quoted" \\ tab\t.txt'), checksum: 'sha1' },
    { path: join(dir, '-dash') },
    { path: join(dir, 'missing') },
    { path: join(dir, 'link'), followLink: true },
    { path: join(dir, 'dangling') },
    { path: join(dir, 'plain.txt', 'under-a-file') },
    { path: join(dir, 'x'.repeat(300)) }, // ENAMETOOLONG: an error, not "missing"
    { path: join(dir, 'sub', 'big'), checksum: 'sha1', contentMax: 4096 },
    { path: join(dir, 'sub'), details: true },
    { path: join(dir, 'sub', 'none'), onlyIfMissing: join(dir, 'sub', 'none') },
    { path: dir, existsIfExists: join(dir, 'plain.txt') },
    { path: join(dir, 'link'), follow: true, checksum: 'sha1' },
    { path: join(dir, 'plain.txt'), follow: true },
    { path: join(dir, 'sub'), checksum: 'sha1' }, // not a regular file: no sum
    { path: join(dir, 'missing-too'), checksum: 'sha1' },
    { path: join(dir, '-dash'), checksum: 'sha256' }, // alone in its algorithm: summed on its own
  ];
}

test('one stat for the unconditional paths (a -L one apart), one sha1sum for their files: the answers of each path asked alone', async () => {
  const paths = queries();
  const script = probeScript({ paths });
  // two stat batches: the plain paths and the followed ones; one sha1sum batch
  assert.equal(script.match(/stat (-L )?-c '[^']*' -- "\$@"/g)?.length, 2, script);
  assert.equal(script.match(/sha1sum -- "\$@"/g)?.length, 1, script);
  await answer({ paths }); // reading a file once may move its atime: compare from here on
  const batched = await answer({ paths });
  assert.deepEqual(withoutAtime(batched.paths), withoutAtime(await oneByOne(paths)));
  // spot checks of what the comparison covers
  assert.equal(batched.paths[1].checksum, createHash('sha1').update('odd\n').digest('hex'));
  assert.equal(batched.paths[3].exists, false);
  assert.equal(batched.paths[4].type, 'link');
  assert.equal(batched.paths[4].linkTarget, 'plain.txt');
  assert.equal(batched.paths[4].target?.type, 'file');
  assert.equal(batched.paths[6].exists, false);
  assert.match(batched.paths[7].error ?? '', /File name too long/);
  assert.equal(batched.paths[12].type, 'file');
});

test('a stat or sha1sum that cannot answer for every path keeps nothing: each path is read alone, with the same answers', async () => {
  const paths = queries();
  await answer({ paths });
  const fellBack = await answer({ paths }, `${shims}:/usr/bin:/bin`);
  assert.deepEqual(withoutAtime(fellBack.paths), withoutAtime(await oneByOne(paths)));
});

test('a batch of paths none of which exists runs no batch stat, and the answers say missing', async () => {
  const paths = [{ path: join(dir, 'gone-1') }, { path: join(dir, 'gone-2') }];
  const r = await answer({ paths });
  assert.deepEqual(
    r.paths.map((p) => p.exists),
    [false, false],
  );
});
