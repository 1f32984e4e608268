// The pure parts of find, getent and with_flattened, on recorded host output:
// - CPython Lib/fnmatch.py `translate` (what find.py's pfilter calls through fnmatch.fnmatch)
// - CPython Lib/posixpath.py `normpath` (find.py main: fsname = os.path.normpath(os.path.join(root, fsobj)))
// - ansible/ansible lib/ansible/modules/find.py main: os.walk's order, depth, hidden
// - ansible/ansible lib/ansible/modules/getent.py main: split, duplicate keys, rc 1/2/3
// - ansible-collections/community.general plugins/lookup/flattened.py _do_flatten
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import findModule, { parseListing, pyNormpath, selectEntries, type Listing } from '../modules/find.js';
import getentModule, { parseGetent } from '../modules/getent.js';
import { flattenedItems } from '../src/executor/task.js';
import { compileFnmatch } from '../src/remote/fnmatch.js';

const fn = (pattern: string, name: string) => compileFnmatch(pattern).matches(name);

describe('fnmatch (CPython fnmatch.translate)', () => {
  it('stars, question marks, whole-name match, case and newlines', () => {
    assert.equal(fn('*.log', 'a.log'), true);
    assert.equal(fn('*.log', 'a.log.1'), false);
    assert.equal(fn('a?c', 'abc'), true);
    assert.equal(fn('a?c', 'ac'), false);
    assert.equal(fn('*.LOG', 'a.log'), false);
    assert.equal(fn('*', '.hidden'), true);
    assert.equal(fn('a*b', 'a\nb'), true);
    assert.equal(fn('*a*a*a*a*a*a*a*a*b', 'a'.repeat(200)), false);
  });
  it('sets: negation with !, literal ] and - first, ranges, empty ranges, unclosed [', () => {
    assert.equal(fn('[!a]x', 'bx'), true);
    assert.equal(fn('[!a]x', 'ax'), false);
    assert.equal(fn('[]a]', ']'), true);
    assert.equal(fn('[-a]', '-'), true);
    assert.equal(fn('[a-c]', 'b'), true);
    assert.equal(fn('[a-c-e]', '-'), true);
    assert.equal(fn('[a-c-e]', 'd'), false);
    // `^` is literal in a set (fnmatch escapes it), `\` too
    assert.equal(fn('[^a]', '^'), true);
    assert.equal(fn('[^a]', 'b'), false);
    assert.equal(fn('[\\]', '\\'), true);
    // z-a is an empty range: the set matches nothing, its complement anything
    assert.equal(fn('[z-a]', 'a'), false);
    assert.equal(fn('[!z-a]', 'q'), true);
    assert.equal(fn('[ab', '[ab'), true);
    assert.equal(fn('a.b', 'axb'), false);
    assert.equal(fn('(a|b)', '(a|b)'), true);
  });
});

describe('pyNormpath (posixpath.normpath)', () => {
  it('as Python prints it', () => {
    assert.equal(pyNormpath('/home//x'), '/home/x');
    assert.equal(pyNormpath('./-x/a'), '-x/a');
    assert.equal(pyNormpath('//a/b'), '//a/b');
    assert.equal(pyNormpath('///a'), '/a');
    assert.equal(pyNormpath('/a/../../b'), '/b');
    assert.equal(pyNormpath('../a/./b/..'), '../a');
    assert.equal(pyNormpath(''), '.');
  });
});

const statFields = (mode: number) => `${mode.toString(16)} 0 0 3 1.5 2.5 3.5 7 2049 1`;
/** the walk script's answer for entries [kind, path, st_mode] under one searched path */
function listing(entries: [string, string, number][], extra = ''): string {
  const e = entries.map(([k, p]) => `E\0${k}\0${p}\0`).join('');
  const s = entries.map(([, p, m]) => `S\0${statFields(m)}\0root\0UNKNOWN\0${p}\0`).join('');
  return `N\x001000.5\0D\0${e}${s}X\0${extra}\0Y\0\0`;
}
const DIR = 0o40755;
const REG = 0o100644;
const LNK = 0o120777;
const args = (raw: Record<string, unknown>) => findModule.args.parse({ paths: '/s', ...raw });
const paths = (sel: { files: Record<string, unknown>[] }) => sel.files.map((f) => f.path);

describe('find: the listing and the walk (find.py main)', () => {
  it('NUL-separated records keep any name; stat fields and names read', () => {
    // a record too many after the last path: refused, not guessed at
    assert.throws(() => parseListing(listing([['f', '/s/a\nb', REG]]) + 'E\0', 1), /incomplete/);
    const ok = parseListing(listing([['f', '/s/a\nE\nb', REG]]), 1);
    const d = ok.paths[0];
    assert.equal(d.kind, 'dir');
    if (d.kind === 'dir') {
      assert.equal(d.entries[0].path, '/s/a\nE\nb');
      assert.equal(d.entries[0].stat?.owner, 'root');
      assert.equal(d.entries[0].stat?.group, '');
      assert.equal(d.entries[0].stat?.mtime, 2.5);
    }
    assert.equal(ok.now, 1000.5);
    assert.throws(() => parseListing('N\x001\0', 1), /incomplete/);
    assert.throws(() => parseListing('garbage', 1), /incomplete/);
  });

  it("os.walk's order: a directory's non-directories, then its directories, then each subdirectory", () => {
    const l: Listing = parseListing(
      listing([
        ['d', '/s/d1', DIR],
        ['f', '/s/d1/f1', REG],
        ['f', '/s/f0', REG],
        ['d', '/s/ld', LNK],
        ['d', '/s/d2', DIR],
        ['f', '/s/d2/f2', REG],
      ]),
      1,
    );
    const sel = selectEntries(args({ recurse: true, file_type: 'any' }), ['/s'], l);
    assert.deepEqual(paths(sel), ['/s/f0', '/s/d1', '/s/ld', '/s/d2', '/s/d1/f1', '/s/d2/f2']);
    assert.equal(sel.examined, 6);
    // depth 1: the level below is examined, not selected
    const d1 = selectEntries(args({ recurse: true, depth: 1, file_type: 'any' }), ['/s'], l);
    assert.deepEqual(paths(d1), ['/s/f0', '/s/d1', '/s/ld', '/s/d2']);
    assert.equal(d1.examined, 6);
  });

  it('a path with a leading dash is searched as ./-x; Python names its entries -x/…', () => {
    const l = parseListing(listing([['f', './-x/a', REG]]), 1);
    const sel = selectEntries(args({}), ['-x'], l);
    assert.deepEqual(paths(sel), ['-x/a']);
  });

  it("an entry gone before stat, a directory find could not read: skipped, in Python's words", () => {
    const text = `N\x001\0D\0E\0f\0/s/gone\0E\0f\0/s/ok\0S\0${statFields(REG)}\0root\0root\0/s/ok\0X\0find: '/s/locked': Permission denied\n\0Y\0stat: cannot statx '/s/gone': No such file or directory\n\0`;
    const sel = selectEntries(args({}), ['/s'], parseListing(text, 1));
    assert.deepEqual(paths(sel), ['/s/ok']);
    assert.deepEqual(sel.skipped, {
      '/s/gone': "[Errno 2] No such file or directory: '/s/gone'",
      '/s': "[Errno 13] Permission denied: '/s/locked'",
    });
    assert.equal(sel.examined, 2);
  });
});

describe('find: a directory that cannot be read ends the walk of its path (handle_walk_errors raises)', () => {
  it('what the walk met before it is kept, nothing after it; examined so far', () => {
    // checked against ansible-core 2.14 as a non-root user: z9, lock, a1 listed; z9/h found; a1/f not
    const entries = [
      ['f', '/s/top', REG],
      ['d', '/s/z9', DIR],
      ['f', '/s/z9/h', REG],
      ['d', '/s/lock', DIR],
      ['d', '/s/a1', DIR],
      ['f', '/s/a1/f', REG],
    ] as [string, string, number][];
    const text = listing(entries, "find: '/s/lock': Permission denied\n");
    const sel = selectEntries(args({ recurse: true, file_type: 'any' }), ['/s'], parseListing(text, 1));
    assert.deepEqual(paths(sel), ['/s/top', '/s/z9', '/s/lock', '/s/a1', '/s/z9/h']);
    assert.equal(sel.examined, 5);
    assert.deepEqual(sel.skipped, { '/s': "[Errno 13] Permission denied: '/s/lock'" });
    assert.deepEqual(sel.warnings, [
      "Skipped '/s' path due to this access issue: [Errno 13] Permission denied: '/s/lock'",
    ]);
    // the searched directory itself: nothing examined
    const top = listing([], "find: '/s/': Permission denied\n");
    const none = selectEntries(args({ recurse: true }), ['/s/'], parseListing(top, 1));
    assert.deepEqual(none.files, []);
    assert.deepEqual(none.skipped, { '/s/': "[Errno 13] Permission denied: '/s/'" });
  });
});

describe('getent (getent.py main)', () => {
  it("':' for the colon databases, runs of blanks for the others; a key seen again becomes a list", () => {
    assert.deepEqual(parseGetent('root:x:0:0:root:/root:/bin/bash\nbin:x:1:1::/bin:\n', ':'), {
      root: ['x', '0', '0', 'root', '/root', '/bin/bash'],
      bin: ['x', '1', '1', '', '/bin', ''],
    });
    assert.deepEqual(parseGetent('127.0.0.1       localhost\n127.0.0.1 vm\n127.0.0.1\tx y\n', undefined), {
      '127.0.0.1': [['localhost'], ['vm'], ['x', 'y']],
    });
    // Python's splitlines also ends a line at \r and \x1c-\x1e; a blank line is no record
    assert.deepEqual(parseGetent('a b\rc d\x1ce f\n\n', undefined), { a: ['b'], c: ['d'], e: ['f'] });
  });

  it("the result: facts as unsafe text; rc 2 with fail_key false; rc 1, 3 and others fail with getent.py's words", () => {
    const a = getentModule.args.parse({ database: 'passwd', key: 'nobody', fail_key: false });
    const ok = getentModule.plan({ result: { rc: 0, stdout: 'x:{{ 7*6 }}:1\n', stderr: '' } }, a, {
      host: 'h',
      check: false,
      vars: {},
    });
    const facts = ok.result!.ansible_facts as Record<string, Record<string, unknown[]>>;
    assert.equal(String(facts.getent_passwd.x[0]), '{{ 7*6 }}');
    assert.notEqual(typeof facts.getent_passwd.x[0], 'string');
    const missing = getentModule.plan({ result: { rc: 2, stdout: '', stderr: '' } }, a, {
      host: 'h',
      check: false,
      vars: {},
    });
    assert.deepEqual(JSON.parse(JSON.stringify(missing.result)), {
      ansible_facts: { getent_passwd: { nobody: null } },
    });
    assert.equal(missing.fail, undefined);
    const strict = getentModule.args.parse({ database: 'passwd', key: 'nobody' });
    const ctx = { host: 'h', check: false, vars: {} };
    assert.equal(
      getentModule.plan({ result: { rc: 2, stdout: '', stderr: '' } }, strict, ctx).fail,
      'One or more supplied key could not be found in the database.',
    );
    assert.equal(
      getentModule.plan({ result: { rc: 1, stdout: '', stderr: '' } }, strict, ctx).fail,
      'Missing arguments, or database unknown.',
    );
    assert.equal(
      getentModule.plan({ result: { rc: 3, stdout: '', stderr: '' } }, strict, ctx).fail,
      'Enumeration not supported on this database.',
    );
    assert.equal(
      getentModule.plan({ result: { rc: 64, stdout: '', stderr: '' } }, strict, ctx).fail,
      'Unexpected failure!',
    );
  });

  it('arguments: split not empty, a database is a word, a service no option', () => {
    assert.equal(getentModule.args.safeParse({ database: 'passwd', split: '' }).success, false);
    assert.equal(getentModule.args.safeParse({ database: 'passwd; id' }).success, false);
    assert.equal(getentModule.args.safeParse({ database: 'hosts', service: '-x' }).success, false);
    assert.equal(getentModule.args.safeParse({ database: 'services', key: 22 }).success, true);
  });
});

describe('with_flattened (flattened.py _do_flatten)', () => {
  it('flattens all the way down; a list of one is its item; "None"/"null" end their list', () => {
    assert.deepEqual(flattenedItems([['a', ['b', ['c', ['d']]]], [['e']], ' f ']), ['a', 'b', 'c', 'd', 'e', 'f']);
    assert.deepEqual(flattenedItems([[]]), []);
    assert.deepEqual(flattenedItems([1, 'null', 2]), [1]);
    assert.deepEqual(flattenedItems([[1, 'None', 2], 3]), [1, 3]);
    assert.deepEqual(flattenedItems([{ a: 1 }]), [{ a: 1 }]);
  });
});
