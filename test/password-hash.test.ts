// The password_hash filter (src/expr/password-hash.ts) and the crypt(3) hashes under it
// (src/expr/crypt-hashes.ts). The algorithms are pinned by the test vectors of Ulrich Drepper's
// "Unix crypt using SHA-256 and SHA-512" and, where python3 has `crypt` (libxcrypt on Debian 12),
// by crypt.crypt itself on random salts. The argument handling is ansible-core 2.14's
// lib/ansible/plugins/filter/core.py get_encrypted_password and lib/ansible/utils/encrypt.py
// CryptHash (_salt, _rounds, _ident), the path Ansible takes without passlib.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { evaluateExpression } from '../src/expr/index.js';
import { md5Crypt, shaCrypt } from '../src/expr/crypt-hashes.js';
import { randomSalt } from '../src/expr/password-hash.js';
import { registerSecretText, secretUsed, watchSecretUse } from '../src/vault/secrecy.js';

const hash = (expr: string, vars: Record<string, unknown> = {}): unknown => evaluateExpression(expr, vars);
const b = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('SHA-crypt: the specification test vectors', () => {
  // [salt setting, key, expected] from the spec's test list; rounds: undefined when the setting has none
  const vectors: ['sha256' | 'sha512', string, number | undefined, string, string][] = [
    [
      'sha512',
      'saltstring',
      undefined,
      'Hello world!',
      '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1',
    ],
    [
      'sha512',
      'saltstringsaltstring',
      10000,
      'Hello world!',
      '$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.',
    ],
    [
      'sha512',
      'toolongsaltstring',
      5000,
      'This is just a test',
      '$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0',
    ],
    [
      'sha512',
      'anotherlongsaltstring',
      1400,
      'a very much longer text to encrypt.  This one even stretches over morethan one line.',
      '$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1',
    ],
    [
      'sha512',
      'short',
      77777,
      'we have a short salt string but not a short password',
      '$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0',
    ],
    ['sha256', 'saltstring', undefined, 'Hello world!', '$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5'],
    [
      'sha256',
      'saltstringsaltstring',
      10000,
      'Hello world!',
      '$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA',
    ],
    [
      'sha256',
      'toolongsaltstring',
      5000,
      'This is just a test',
      '$5$rounds=5000$toolongsaltstrin$Un/5jzAHMgOGZ5.mWJpuVolil07guHPvOW8mGRcvxa5',
    ],
    [
      'sha256',
      'short',
      77777,
      'we have a short salt string but not a short password',
      '$5$rounds=77777$short$JiO1O3ZpDAxGJeaDIuqCoEFysAe1mZNJRs3pw0KQRd/',
    ],
  ];
  for (const [alg, salt, rounds, key, expected] of vectors)
    it(`${alg} salt ${salt} rounds ${rounds ?? 'default'}`, () =>
      assert.equal(shaCrypt(alg, b(key), b(salt), rounds), expected));

  it('rounds outside 1000..999999999 are refused (glibc clamps them; libxcrypt, what Debian 12 has, fails)', () => {
    assert.throws(() => shaCrypt('sha512', b('x'), b('abc'), 999), /rounds/);
    assert.throws(() => shaCrypt('sha512', b('x'), b('abc'), 1_000_000_000), /rounds/);
  });
});

describe('MD5-crypt', () => {
  it('gives what glibc/libxcrypt give for "password" with salt saltsalt (and cuts the salt at 8)', () => {
    assert.equal(md5Crypt(b('password'), b('saltsalt')), '$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/');
    assert.equal(md5Crypt(b('password'), b('saltsaltXYZ')), md5Crypt(b('password'), b('saltsalt')));
  });
});

// Python's crypt module (deprecated, present up to 3.12) is libxcrypt's crypt: the reference Ansible
// uses without passlib. Random salts and passwords, drawn here from node:crypto (never the clock).
const python = spawnSync('python3', ['-W', 'ignore', '-c', 'import crypt'], { encoding: 'utf8' });
const hasCrypt = python.status === 0;
describe(
  'against python3 crypt.crypt',
  { skip: hasCrypt ? false : 'python3 with the crypt module is not here' },
  () => {
    it('agrees on random salts, passwords and settings', () => {
      const cases: { key: string; setting: string; ours: string }[] = [];
      for (let i = 0; i < 12; i++) {
        const key = randomSalt(i * 7) + (i % 3 === 0 ? 'é€ ' : '');
        const salt = randomSalt(1 + (i % 16));
        const alg = i % 3 === 0 ? 'sha256' : 'sha512';
        const rounds = i % 4 === 0 ? 1000 + i * 13 : undefined;
        const setting = `$${alg === 'sha512' ? 6 : 5}$${rounds === undefined ? '' : `rounds=${rounds}$`}${salt}`;
        cases.push({ key, setting, ours: shaCrypt(alg, b(key), b(salt), rounds) });
        const md5Salt = randomSalt(1 + (i % 8));
        cases.push({ key, setting: `$1$${md5Salt}`, ours: md5Crypt(b(key), b(md5Salt)) });
      }
      // edges: an empty password, an empty salt, the longest passphrase libxcrypt takes
      const longest = 'é'.repeat(255) + 'a';
      cases.push({ key: '', setting: '$6$abc', ours: shaCrypt('sha512', b(''), b('abc')) });
      cases.push({ key: 'x', setting: '$6$', ours: shaCrypt('sha512', b('x'), b('')) });
      cases.push({ key: longest, setting: '$5$abc', ours: shaCrypt('sha256', b(longest), b('abc')) });
      cases.push({ key: '', setting: '$1$', ours: md5Crypt(b(''), b('')) });
      const run = spawnSync(
        'python3',
        [
          '-W',
          'ignore',
          '-c',
          'import crypt, json, sys\nfor c in json.load(sys.stdin): print(crypt.crypt(c["key"], c["setting"]))',
        ],
        { input: JSON.stringify(cases), encoding: 'utf8' },
      );
      assert.equal(run.status, 0, run.stderr);
      assert.deepEqual(
        run.stdout.trimEnd().split('\n'),
        cases.map((c) => c.ours),
      );
    });
  },
);

describe('password_hash as ansible-core 2.14 gives it without passlib', () => {
  it("'example'|password_hash('sha512','somesalt'): the hash ansible 2.14.18 and crypt.crypt give", () =>
    assert.equal(
      hash("'example' | password_hash('sha512', 'somesalt')"),
      '$6$somesalt$53ObslGY4PjqhPZWARlql36RyUQSNbQYelAP7Be6fwu4QlbZfM9nz6XzxhBdKMCmgtjg639KHd1pZPOQOYGYT.',
    ));
  it('sha512 by default; sha256 and md5 by name or by crypt name', () => {
    assert.equal(
      hash("'Hello world!' | password_hash(salt='saltstring')"),
      shaCrypt('sha512', b('Hello world!'), b('saltstring')),
    );
    assert.equal(
      hash("'Hello world!' | password_hash('sha256_crypt', 'saltstring')"),
      '$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5',
    );
    assert.equal(hash("'password' | password_hash('md5', 'saltsalt')"), '$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/');
  });
  it('without a salt: a random one of 16 characters (8 for md5), so each call differs', () => {
    const [x, y] = [hash("'pw' | password_hash('sha512')"), hash("'pw' | password_hash('sha512')")];
    assert.match(String(x), /^\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/);
    assert.notEqual(x, y);
    assert.match(String(hash("'pw' | password_hash('md5')")), /^\$1\$[./0-9A-Za-z]{8}\$[./0-9A-Za-z]{22}$/);
    assert.match(String(hash("'pw' | password_hash('sha256', '')")), /^\$5\$[./0-9A-Za-z]{16}\$/);
  });
  it('salt_size (the third argument) sizes the random salt', () =>
    assert.match(String(hash("'pw' | password_hash('sha512', none, 5)")), /^\$6\$[./0-9A-Za-z]{5}\$/));
  it('rounds: a rounds= prefix when given, even 5000; none for the implicit count (656000, 535000) or 0', () => {
    assert.equal(
      hash("'This is just a test' | password_hash('sha512', 'toolongsaltstrin', rounds=5000)"),
      '$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0',
    );
    const plain = hash("'x' | password_hash('sha512', 'abc')");
    assert.equal(hash("'x' | password_hash('sha512', 'abc', rounds=656000)"), plain);
    assert.equal(hash("'x' | password_hash('sha512', 'abc', rounds=0)"), plain);
    assert.equal(hash("'x' | password_hash('sha256', 'abc', rounds=535000)"), shaCrypt('sha256', b('x'), b('abc')));
    assert.match(String(hash("'x' | password_hash('sha256', 'abc', none, 1234)")), /^\$5\$rounds=1234\$abc\$/);
  });
  it('a secret password keeps the task secret', () => {
    registerSecretText('pw-canary-hash');
    const used = watchSecretUse(() => {
      hash("pw | password_hash('sha512', 'somesalt')", { pw: 'pw-canary-hash' });
      return secretUsed();
    });
    assert.equal(used, true);
  });
});

describe('password_hash refuses bad input with a clear error', () => {
  const refused: [string, RegExp][] = [
    ["'x' | password_hash('sha512', 'bad_salt')", /password_hash: invalid characters in salt/],
    ["'x' | password_hash('sha512', 'a$b')", /invalid characters in salt/],
    ["'x' | password_hash('sha512', 'abcdefghijklmnopq')", /invalid salt size/],
    ["'x' | password_hash('md5', 'abcdefghi')", /invalid salt size/],
    ["'x' | password_hash('sha512', none, 17)", /invalid salt size/],
    ["'x' | password_hash('sha512', 123)", /salt must be a string/],
    ["'a\\x00b' | password_hash('sha512', 'abc')", /NUL/],
    ["long | password_hash('sha512', 'abc')", /longer than 511 bytes/],
    ['123 | password_hash', /the password must be a string/],
    ["'x' | password_hash('blowfish')", /bcrypt/],
    ["'x' | password_hash('sha1')", /does not support 'sha1'/],
    ["'x' | password_hash('sha512', 'abc', ident='6')", /does not support 'sha512_crypt'/],
    ["'x' | password_hash('sha512', 'abc', rounds=10)", /rounds must be from 1000/],
    ["'x' | password_hash('sha512', 'abc', rounds='5000')", /rounds must be an integer/],
    ["'x' | password_hash('sha512', 'abc', rounds=20000000)", /rounds above 10000000/],
    ["'x' | password_hash('md5', 'abc', rounds=1000)", /md5_crypt takes no rounds/],
  ];
  for (const [expr, message] of refused)
    it(expr, () => assert.throws(() => hash(expr, { long: 'é'.repeat(256) }), message));
});
