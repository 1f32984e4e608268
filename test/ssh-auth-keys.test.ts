// Key files for SSH auth (src/connection/auth.ts): each is read and parsed once per
// run, and signs with a KeyObject made once, where ssh2's own ParsedKey.sign() decodes
// the key's PEM text again for every signature (every connection). The signatures must
// be ssh2's own, byte for byte where the algorithm is deterministic.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import type { ParsedKey } from 'ssh2';
import { clearKeyCache, makeAuthHandler, signingWithKeyObject } from '../src/connection/auth.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function parsed(pem: string): ParsedKey {
  const k = ssh2.utils.parseKey(pem);
  assert.ok(!(k instanceof Error), `parses: ${(k as Error).message}`);
  return k;
}

const KEYS = {
  ed25519: () => ssh2.utils.generateKeyPairSync('ed25519'),
  'ecdsa 256': () => ssh2.utils.generateKeyPairSync('ecdsa', { bits: 256 }),
  'ecdsa 384': () => ssh2.utils.generateKeyPairSync('ecdsa', { bits: 384 }),
  'ecdsa 521': () => ssh2.utils.generateKeyPairSync('ecdsa', { bits: 521 }),
  rsa: () => ssh2.utils.generateKeyPairSync('rsa', { bits: 2048 }),
};

for (const [name, make] of Object.entries(KEYS)) {
  test(`${name}: the KeyObject signs as ssh2's sign() does, with the same default hash`, () => {
    const key = parsed(make().private);
    const fast = signingWithKeyObject(key);
    assert.ok(Object.hasOwn(fast, 'sign') && !Object.hasOwn(key, 'sign'), 'a sign() of its own');
    assert.equal(fast.type, key.type);
    assert.deepEqual(fast.getPublicSSH(), key.getPublicSSH());
    // ssh2 still takes it for a parsed key (it would parse it again, or refuse it, otherwise)
    assert.equal(ssh2.utils.parseKey(fast as unknown as Buffer), fast);
    const data = Buffer.from('session id and userauth request');
    const algos = key.type === 'ssh-rsa' ? [undefined, 'sha256', 'sha512'] : [undefined];
    for (const algo of algos) {
      const mine = fast.sign(data, algo);
      assert.ok(Buffer.isBuffer(mine), `signs with ${algo ?? 'the default hash'}`);
      // ed25519 and RSA PKCS#1 v1.5 signatures are deterministic; ECDSA's are checked by ssh2
      if (!key.type.startsWith('ecdsa')) assert.deepEqual(mine, key.sign(data, algo));
      assert.equal(key.verify(data, mine, algo), true, `ssh2 verifies it (${algo ?? 'default hash'})`);
    }
  });
}

test('a failing signature is returned as an Error, as ssh2 does', () => {
  const fast = signingWithKeyObject(parsed(KEYS.rsa().private));
  assert.ok(fast.sign(Buffer.from('x'), 'no-such-hash') instanceof Error);
});

test('a key file is read and parsed once for many connections, and its signing never goes back to the PEM', async () => {
  clearKeyCache();
  const dir = await mkdtemp(join(tmpdir(), 'phx-auth-keys-'));
  dirs.push(dir);
  const path = join(dir, 'id_ed25519');
  await writeFile(path, KEYS.ed25519().private, { mode: 0o600 });
  const picked: ParsedKey[] = [];
  for (let i = 0; i < 5; i++) {
    const auth = makeAuthHandler({ user: 'root', keyFiles: [{ path, explicit: true }] });
    const method = await new Promise<unknown>((res) => auth.handler(['publickey'], false, res));
    picked.push((method as { key: ParsedKey }).key);
  }
  // the same object every time: one read, one parse, one KeyObject for the run
  assert.equal(new Set(picked).size, 1);
  const key = picked[0];
  const proto = Object.getPrototypeOf(key) as ParsedKey;
  let pemSigns = 0;
  const ssh2Sign = proto.sign.bind(proto);
  proto.sign = (...a) => (pemSigns++, ssh2Sign(...a));
  for (let i = 0; i < 5; i++) assert.ok(Buffer.isBuffer(key.sign(Buffer.from(`connection ${i}`))));
  assert.equal(pemSigns, 0, "ssh2's PEM sign() was not used");
  // a key file that cannot be parsed still says why, for each host that tries it
  const bad = join(dir, 'id_bad');
  await writeFile(bad, 'not a key\n');
  for (let i = 0; i < 2; i++) {
    const auth = makeAuthHandler({ user: 'root', keyFiles: [{ path: bad, explicit: true }] });
    const method = await new Promise<unknown>((res) => auth.handler(['publickey'], false, res));
    assert.equal(method, false);
    assert.match(auth.skipped().join('\n'), /id_bad: Unsupported key format/);
  }
  clearKeyCache();
});
