// find (ansible/ansible lib/ansible/modules/find.py: main, pfilter, agefilter, sizefilter,
// contentfilter, mode_filter, statinfo) on real files through the local connection. The expected
// lists follow find.py's os.walk order (a directory's non-directories, then its directories, each
// in readdir order, then each subdirectory); the tree is built so that the order within a directory
// does not depend on the filesystem: paths are compared in os.walk's grouping where it matters.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fileModule from '../modules/file.js';
import findModule from '../modules/find.js';
import { Predictions } from '../src/predictions.js';
import { argErrors, removeDir, run, tempDir } from './modules-harness.js';

let dir: string;
const rel = (files: unknown) => (files as { path: string }[]).map((f) => f.path.slice(dir.length + 1));
const sorted = (xs: string[]) => [...xs].sort();

before(() => {
  dir = tempDir('phx-find-');
  mkdirSync(join(dir, 'a/b/c'), { recursive: true });
  mkdirSync(join(dir, '.h'));
  mkdirSync(join(dir, 'd2'));
  writeFileSync(join(dir, 'a/x.txt'), 'hello\n');
  writeFileSync(join(dir, 'a/b/y.log'), 'foo bar\nbaz\n');
  writeFileSync(join(dir, 'a/b/c/z.log'), 'deep');
  writeFileSync(join(dir, '.h/z'), '');
  writeFileSync(join(dir, '.hid'), '');
  writeFileSync(join(dir, '-dash'), '');
  writeFileSync(join(dir, '[x]'), '');
  writeFileSync(join(dir, 'new\nline'), 'x');
  writeFileSync(join(dir, "q'$(touch pwned)"), '');
  writeFileSync(join(dir, 'big.bin'), Buffer.alloc(5000));
  writeFileSync(join(dir, 'bad.txt'), Buffer.from([0xff, 0xfe, 0x66, 0x6f, 0x6f])); // 'foo' after invalid UTF-8
  writeFileSync(join(dir, 'd2/in'), '');
  symlinkSync('a', join(dir, 'la'));
  symlinkSync('/nonexistent', join(dir, 'broken'));
  symlinkSync('../d2', join(dir, 'a/ld2'));
  chmodSync(join(dir, '-dash'), 0o600);
  const old = new Date('2020-01-01T00:00:00Z');
  utimesSync(join(dir, 'a/x.txt'), old, old);
});
after(() => removeDir(dir));

const TOP_FILES = ['-dash', '[x]', 'new\nline', "q'$(touch pwned)", 'big.bin', 'bad.txt'];

describe('find', () => {
  it('defaults: the regular files right under the path, no hidden ones, stat fields, one round trip', async () => {
    const { result, roundTrips } = await run(findModule, { paths: dir });
    assert.equal(roundTrips, 1);
    assert.equal(result.changed, false);
    assert.deepEqual(sorted(rel(result.files)), sorted(TOP_FILES));
    // examined counts every entry listed, hidden and not selected ones too (find.py: len(files) + len(dirs))
    assert.equal(result.examined, 12);
    assert.equal(result.matched, 6);
    assert.equal(result.msg, 'All paths examined');
    assert.deepEqual(result.skipped_paths, {});
    const dash = (result.files as Record<string, unknown>[]).find((f) => String(f.path).endsWith('/-dash'))!;
    assert.equal(dash.mode, '0600');
    assert.equal(dash.isreg, true);
    assert.equal(dash.islnk, false);
    assert.equal(dash.pw_name, 'root');
    assert.equal(dash.size, 0);
    assert.equal('checksum' in dash, false);
  });

  it('recurse, file_type any, hidden: os.walk order, links not followed, hidden directories walked', async () => {
    const { result } = await run(findModule, { paths: dir, recurse: true, file_type: 'any', hidden: true });
    const got = rel(result.files);
    assert.deepEqual(
      sorted(got),
      sorted([
        ...TOP_FILES,
        '.hid',
        'la',
        'broken',
        '.h',
        'a',
        'd2',
        '.h/z',
        'a/x.txt',
        'a/ld2',
        'a/b',
        'a/b/y.log',
        'a/b/c',
        'a/b/c/z.log',
        'd2/in',
      ]),
    );
    // a directory's entries come before anything below it; the non-directories of a directory before its directories
    assert.ok(got.indexOf('a') < got.indexOf('a/x.txt'));
    assert.ok(got.indexOf('la') < got.indexOf('a') && got.indexOf('broken') < got.indexOf('d2'));
    assert.ok(got.indexOf('a/x.txt') < got.indexOf('a/b') && got.indexOf('a/b') < got.indexOf('a/b/y.log'));
    // `hidden: false` leaves out hidden names but still walks hidden directories (find.py checks the base name only)
    const noHidden = await run(findModule, { paths: dir, recurse: true, file_type: 'any' });
    assert.ok(rel(noHidden.result.files).includes('.h/z'));
    assert.ok(!rel(noHidden.result.files).includes('.h'));
    assert.equal(noHidden.result.examined, result.examined);
  });

  it('follow: symlinked directories are walked, their entries lstat-ed', async () => {
    const { result } = await run(findModule, { paths: `${dir}/`, recurse: true, follow: true, file_type: 'link' });
    assert.deepEqual(sorted(rel(result.files)), ['a/ld2', 'broken', 'la', 'la/ld2']);
    const plain = await run(findModule, { paths: dir, recurse: true, file_type: 'link' });
    assert.deepEqual(sorted(rel(plain.result.files)), ['a/ld2', 'broken', 'la']);
    // a searched path that is itself a link to a directory is walked (os.path.isdir follows it)
    const viaLink = await run(findModule, { paths: join(dir, 'la'), recurse: true });
    assert.deepEqual(sorted(rel(viaLink.result.files)), ['la/b/c/z.log', 'la/b/y.log', 'la/x.txt']);
  });

  it('depth: entries below it are not selected, but the level just below is examined (find.py del dirs[:])', async () => {
    const d1 = await run(findModule, { paths: dir, recurse: true, depth: 1, file_type: 'directory' });
    assert.deepEqual(sorted(rel(d1.result.files)), ['a', 'd2']);
    // top: 12 entries; a: 3, d2: 1, .h: 1 (listed when their parents are walked, then cut)
    assert.equal(d1.result.examined, 17);
    const d2 = await run(findModule, { paths: dir, recurse: true, depth: 2, file_type: 'directory' });
    assert.deepEqual(sorted(rel(d2.result.files)), ['a', 'a/b', 'd2']);
    // recurse: false overrides depth
    const flat = await run(findModule, { paths: dir, depth: 3, file_type: 'directory' });
    assert.deepEqual(sorted(rel(flat.result.files)), ['a', 'd2']);
  });

  it('patterns: globs (comma-separated or a list) and fnmatch sets; regexes match from the start', async () => {
    const globs = await run(findModule, { paths: dir, recurse: true, patterns: '*.txt,*.log' });
    assert.deepEqual(sorted(rel(globs.result.files)), ['a/b/c/z.log', 'a/b/y.log', 'a/x.txt', 'bad.txt']);
    // `[[]x]` is a set holding `[`, then `x]`; `[!a-z]*` starts with no lower-case letter
    const sets = await run(findModule, { paths: dir, patterns: ['[[]x]', '[!a-z]*'] });
    assert.deepEqual(sorted(rel(sets.result.files)), ['-dash', '[x]']);
    const regex = await run(findModule, { paths: dir, recurse: true, use_regex: true, patterns: ['.*\\.log', 'x'] });
    assert.deepEqual(sorted(rel(regex.result.files)), ['a/b/c/z.log', 'a/b/y.log', 'a/x.txt']);
    // `*` also matches a newline (fnmatch translates to (?s:...))
    const nl = await run(findModule, { paths: dir, patterns: 'new*' });
    assert.deepEqual(rel(nl.result.files), ['new\nline']);
  });

  it('excludes: cull the base names that patterns matched; directories excluded by name', async () => {
    const r = await run(findModule, { paths: dir, recurse: true, file_type: 'directory', excludes: 'b,d*' });
    assert.deepEqual(sorted(rel(r.result.files)), ['a', 'a/b/c']);
    const re = await run(findModule, {
      paths: dir,
      recurse: true,
      use_regex: true,
      patterns: '.*\\.log',
      excludes: 'z',
    });
    assert.deepEqual(rel(re.result.files), ['a/b/y.log']);
  });

  it('age and size (units, negative = at most), against the host clock', async () => {
    const old = await run(findModule, { paths: dir, recurse: true, age: '2w' });
    assert.deepEqual(rel(old.result.files), ['a/x.txt']);
    const young = await run(findModule, { paths: join(dir, 'a'), recurse: true, age: '-1d' });
    assert.deepEqual(sorted(rel(young.result.files)), ['a/b/c/z.log', 'a/b/y.log']);
    const big = await run(findModule, { paths: dir, recurse: true, size: '4k' });
    assert.deepEqual(rel(big.result.files), ['big.bin']);
    // size is not applied to directories or links with file_type any
    const small = await run(findModule, { paths: dir, file_type: 'any', size: -4 });
    assert.deepEqual(
      sorted(rel(small.result.files)),
      sorted(['-dash', '[x]', 'new\nline', "q'$(touch pwned)", 'la', 'broken', 'a', 'd2']),
    );
    assert.deepEqual(argErrors(findModule, { paths: dir, age: '3x' }), ['age: failed to process age: "3x"']);
    assert.deepEqual(argErrors(findModule, { paths: dir, size: '1 m' }), ['size: failed to process size: "1 m"']);
  });

  it('contains: each line from its start, or the whole file; not UTF-8 never matches; a second round trip', async () => {
    const line = await run(findModule, { paths: dir, recurse: true, contains: 'ba', hidden: true });
    assert.deepEqual(rel(line.result.files), ['a/b/y.log']);
    assert.equal(line.roundTrips, 2);
    const dollar = await run(findModule, { paths: dir, recurse: true, contains: 'baz$' });
    assert.deepEqual(rel(dollar.result.files), ['a/b/y.log']);
    const anywhere = await run(findModule, { paths: dir, recurse: true, contains: 'ar.ba', read_whole_file: true });
    assert.deepEqual(rel(anywhere.result.files), []);
    const whole = await run(findModule, { paths: dir, recurse: true, contains: 'bar\nbaz', read_whole_file: true });
    assert.deepEqual(rel(whole.result.files), ['a/b/y.log']);
    const foo = await run(findModule, { paths: dir, recurse: true, contains: 'foo' });
    assert.deepEqual(rel(foo.result.files), ['a/b/y.log']);
    assert.match(argErrors(findModule, { paths: dir, contains: '(' }).join(), /contains: invalid regular expression/);
  });

  it('get_checksum: the matched regular files only, with checksum_algorithm', async () => {
    const r = await run(findModule, { paths: dir, recurse: true, patterns: 'x.txt', get_checksum: true });
    const files = r.result.files as Record<string, unknown>[];
    assert.equal(files[0].checksum, createHash('sha1').update('hello\n').digest('hex'));
    const sha256 = await run(findModule, {
      paths: join(dir, 'a'),
      file_type: 'any',
      get_checksum: true,
      checksum_algorithm: 'sha256',
    });
    const byPath = Object.fromEntries((sha256.result.files as Record<string, unknown>[]).map((f) => [rel([f])[0], f]));
    assert.equal(byPath['a/x.txt'].checksum, createHash('sha256').update('hello\n').digest('hex'));
    assert.equal('checksum' in byPath['a/b'], false);
    // with contains, the content already read gives the checksum: still two round trips
    const both = await run(findModule, { paths: dir, recurse: true, contains: 'foo', get_checksum: true });
    assert.equal(both.roundTrips, 2);
    assert.equal(
      (both.result.files as Record<string, unknown>[])[0].checksum,
      createHash('sha1').update('foo bar\nbaz\n').digest('hex'),
    );
  });

  it('mode and exact_mode (find.py mode_filter)', async () => {
    const exact = await run(findModule, { paths: dir, mode: '0600' });
    assert.deepEqual(rel(exact.result.files), ['-dash']);
    const any = await run(findModule, { paths: dir, mode: 'u=r', exact_mode: false });
    assert.deepEqual(sorted(rel(any.result.files)), sorted(TOP_FILES));
  });

  it('a path that is not a directory is skipped with its reason, the others still searched', async () => {
    const { result } = await run(findModule, { paths: [join(dir, 'nope'), join(dir, 'a/x.txt'), join(dir, 'a')] });
    assert.deepEqual(result.skipped_paths, {
      [join(dir, 'nope')]: `'${join(dir, 'nope')}' is not a directory`,
      [join(dir, 'a/x.txt')]: `'${join(dir, 'a/x.txt')}' is not a directory`,
    });
    assert.equal(result.msg, 'Not all paths examined, check warnings for details');
    assert.deepEqual(rel(result.files), ['a/x.txt']);
    assert.equal((result.warnings as string[]).length, 2);
    assert.equal(result.failed, undefined);
  });

  it('hostile names are data: nothing runs, paths with a leading dash are searched', async () => {
    mkdirSync(join(dir, '-d'), { recursive: true });
    writeFileSync(join(dir, '-d/f'), '');
    const { result } = await run(findModule, { paths: [join(dir, '-d')] });
    assert.deepEqual(rel(result.files), ['-d/f']);
    const r = await run(findModule, { paths: dir, recurse: true, contains: 'x', get_checksum: true });
    assert.deepEqual(rel(r.result.files), ['new\nline']);
    assert.equal(
      r.result.files && (r.result.files as Record<string, unknown>[])[0].checksum,
      createHash('sha1').update('x').digest('hex'),
    );
    const { result: none } = await run(findModule, { paths: dir, patterns: 'pwned' });
    assert.deepEqual(none.files, []);
  });

  it('check mode: what earlier tasks of the run would make, change or remove is found as it would be', async () => {
    const predicted = new Predictions();
    const check = { check: true, predicted };
    await run(fileModule, { path: join(dir, 'a/new'), state: 'directory', mode: '0700' }, check);
    await run(fileModule, { path: join(dir, 'a/new/f.txt'), state: 'touch' }, check);
    await run(fileModule, { path: join(dir, 'a/b'), state: 'absent' }, check);
    await run(fileModule, { path: join(dir, 'a/x.txt'), mode: '0600' }, check);
    const r = await run(findModule, { paths: join(dir, 'a'), recurse: true, file_type: 'any' }, check);
    assert.deepEqual(sorted(rel(r.result.files)), ['a/ld2', 'a/new', 'a/new/f.txt', 'a/x.txt']);
    const byPath = Object.fromEntries((r.result.files as Record<string, unknown>[]).map((f) => [rel([f])[0], f]));
    assert.equal(byPath['a/new'].mode, '0700');
    assert.equal(byPath['a/new'].isdir, true);
    assert.equal(byPath['a/x.txt'].mode, '0600');
    // nothing changed on the host
    const real = await run(findModule, { paths: join(dir, 'a'), recurse: true, file_type: 'any' });
    assert.deepEqual(sorted(rel(real.result.files)), ['a/b', 'a/b/c', 'a/b/c/z.log', 'a/b/y.log', 'a/ld2', 'a/x.txt']);
    // without recurse, what would be made deeper is not listed
    const flat = await run(findModule, { paths: join(dir, 'a'), file_type: 'any' }, check);
    assert.deepEqual(sorted(rel(flat.result.files)), ['a/ld2', 'a/new', 'a/x.txt']);
  });

  it('check mode reads the same', async () => {
    const real = await run(findModule, { paths: dir, recurse: true });
    const check = await run(findModule, { paths: dir, recurse: true }, { check: true });
    assert.deepEqual(rel(check.result.files), rel(real.result.files));
    assert.equal(check.result.changed, false);
  });

  it('arguments: aliases, one of paths/path/name, lists', () => {
    assert.deepEqual(argErrors(findModule, {}), ['paths: paths is required']);
    assert.deepEqual(argErrors(findModule, { paths: '/a', name: '/b' }), [
      'paths: give only one of paths, path, name (they are aliases)',
    ]);
    assert.deepEqual(argErrors(findModule, { path: '/a,/b', pattern: 'x', exclude: ['y'] }), []);
    assert.deepEqual(argErrors(findModule, { paths: '/a', file_type: 'socket' }).length, 1);
    assert.match(argErrors(findModule, { paths: '/a', use_regex: true, patterns: 'a(' }).join(), /^patterns: invalid/);
  });
});
