// Ansible Vault format 1.1/1.2 AES256 (issue 15 item 6): vectors written by the
// real ansible-vault decrypt, and encrypting their plaintext again with their salt
// gives the same text byte for byte, so what phx-play writes ansible-vault reads.
// The format: ansible lib/ansible/parsing/vault/__init__.py (format_vaulttext_envelope,
// parse_vaulttext, VaultAES256._gen_key_initctr / encrypt / decrypt).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decryptWith, encrypt, parseEnvelope } from '../src/vault/format.js';
import { decryptVaultText, VaultDecryptError, type VaultPassword } from '../src/vault/keyring.js';
import { parseVaultId } from '../src/vault/passwords.js';

// ansible/ansible test/integration/targets/ansible-vault/format_1_1_AES256.yml; its password is the
// file vault-password of that directory, `test-vault-password` (runme.sh pipes it to --ask-vault-pass)
const FORMAT_1_1 = `$ANSIBLE_VAULT;1.1;AES256
33613463343938323434396164663236376438313435633837336438366530666431643031333734
6463646538393331333239393363333830613039376562360a396635393636636539346332336364
35303039353164386461326439346165656463383137663932323930666632326263636266656461
3232663537653637640a643166666232633936636664376435316664656631633166323237356163
6138
`;
// ansible/ansible test/integration/targets/ansible-vault/format_1_2_AES256.yml (same password)
const FORMAT_1_2 = `$ANSIBLE_VAULT;1.2;AES256;test_vault_id
30383835613535356232333534303264656530633664616233386138396563623939626136366537
3635323530646538626138383136636437616637616430610a386661346563346136326637656461
64393364343964633364336666333630383164643662343930663432316333633537353938376437
6134656262373731390a363166356461376663313532343733326438386632623930313366643038
6133
`;
// ansible/ansible test/units/parsing/vault/test_vault_editor.py, v11_data: password `ansible`,
// test_decrypt_1_1 asserts the plaintext is "foo" once stripped
const V11_DATA = `$ANSIBLE_VAULT;1.1;AES256
62303130653266653331306264616235333735323636616539316433666463323964623162386137
3961616263373033353631316333623566303532663065310a393036623466376263393961326530
64336561613965383835646464623865663966323464653236343638373165343863623638316664
3631633031323837340a396530313963373030343933616133393566366137363761373930663833
3739`;

const pw = (password: string, label = 'default'): VaultPassword => ({
  label,
  password: Buffer.from(password),
  source: 'test',
});

describe('vectors written by ansible-vault', () => {
  const vectors: [string, string, string, string | undefined, string][] = [
    ['format_1_1_AES256.yml', FORMAT_1_1, 'test-vault-password', undefined, 'foobar\n'],
    ['format_1_2_AES256.yml', FORMAT_1_2, 'test-vault-password', 'test_vault_id', 'foobar\n'],
    ['test_vault_editor.py v11_data', V11_DATA, 'ansible', undefined, 'foo\n'],
  ];
  for (const [name, text, password, label, plaintext] of vectors) {
    it(`${name}: decrypts with its password, and is refused with another`, () => {
      const env = parseEnvelope(text);
      assert.equal(env.label, label);
      assert.equal(env.version, label ? '1.2' : '1.1');
      assert.equal(decryptWith(env, Buffer.from(password))?.toString(), plaintext);
      assert.equal(decryptWith(env, Buffer.from(password + 'x')), undefined);
    });
    it(`${name}: encrypting its plaintext with its salt writes the same text`, () => {
      const env = parseEnvelope(text);
      const again = encrypt(Buffer.from(plaintext), Buffer.from(password), label, env.salt);
      assert.equal(again, text.endsWith('\n') ? text : text + '\n');
    });
  }
});

describe('round trips', () => {
  const samples = ['', 'x', 'exactly sixteen!', 'a: 1\nb: [2, 3]\n', 'ünïcödé ✓ '.repeat(40)];
  for (const s of samples) {
    it(`${JSON.stringify(s.slice(0, 20))} (${Buffer.byteLength(s)} bytes) comes back the same`, () => {
      const text = encrypt(Buffer.from(s), Buffer.from('pw'));
      assert.ok(text.startsWith('$ANSIBLE_VAULT;1.1;AES256\n'));
      for (const line of text.trimEnd().split('\n').slice(1)) assert.ok(line.length <= 80 && /^[0-9a-f]+$/.test(line));
      assert.equal(decryptVaultText(text, [pw('pw')]).plaintext.toString(), s);
    });
  }
  it('a label writes format 1.2 with the label; `default` writes 1.1 (as ansible-vault)', () => {
    assert.ok(encrypt(Buffer.from('x'), Buffer.from('pw'), 'prod').startsWith('$ANSIBLE_VAULT;1.2;AES256;prod\n'));
    assert.ok(encrypt(Buffer.from('x'), Buffer.from('pw'), 'default').startsWith('$ANSIBLE_VAULT;1.1;AES256\n'));
  });
  it('two encryptions of the same text differ (random salt)', () => {
    assert.notEqual(encrypt(Buffer.from('x'), Buffer.from('pw')), encrypt(Buffer.from('x'), Buffer.from('pw')));
  });
});

describe('decryption with several passwords', () => {
  it('the password whose label the text names is tried first; any other that works is accepted', () => {
    const r = decryptVaultText(FORMAT_1_2, [pw('wrong', 'other'), pw('test-vault-password', 'elsewhere')]);
    assert.equal(r.plaintext.toString(), 'foobar\n');
    assert.equal(r.label, 'elsewhere');
  });
  it('no password that works: an error naming the sources tried and the vault id, not the passwords', () => {
    assert.throws(
      () => decryptVaultText(FORMAT_1_2, [pw('hunter2-wrong', 'a')]),
      (e: Error) =>
        e instanceof VaultDecryptError &&
        /none of the vault passwords given \(a@test\)/.test(e.message) &&
        /test_vault_id/.test(e.message) &&
        !e.message.includes('hunter2'),
    );
  });
  it('no password at all, altered data, unknown format: clear errors', () => {
    assert.throws(() => decryptVaultText(FORMAT_1_1, []), /no vault password was given/);
    const altered = FORMAT_1_1.replace('6138\n', '6139\n');
    assert.throws(() => decryptVaultText(altered, [pw('test-vault-password')]), /none of the vault passwords/);
    assert.throws(() => decryptVaultText('$ANSIBLE_VAULT;1.0;AES\n00\n', [pw('x')]), /format 1\.0 is not supported/);
    assert.throws(() => decryptVaultText('$ANSIBLE_VAULT;1.1;AES256\nzz\n', [pw('x')]), /not hexadecimal/);
  });
});

describe('--vault-id', () => {
  it('label@source, a bare source is `default`', () => {
    assert.deepEqual(parseVaultId('prod@/etc/pw'), { label: 'prod', source: '/etc/pw' });
    assert.deepEqual(parseVaultId('prompt'), { label: 'default', source: 'prompt' });
  });
  it('a label that would break the 1.2 header is refused', () => {
    assert.throws(() => parseVaultId('a;b@f'), /label/);
    assert.throws(() => parseVaultId('@f'), /label/);
    assert.throws(() => parseVaultId('x@'), /no password source/);
  });
});
