// authorized_key on recorded facts, following ansible.posix's
// plugins/modules/authorized_key.py: parseoptions (commas outside quotes),
// parsekey (shlex words, the first valid type, options before it, comment after
// the blob; a lone `#` first word is a comment line), parsekeys (a later line
// with the same blob takes the earlier one's place), serialize (by rank), and
// enforce_state (present: a key whose type, options or comment differ is
// replaced and moves after the existing lines; absent: by blob; exclusive:
// every other line goes, comments too; `changed` is "it writes"). Plus what
// phx-play refuses: key_options that would end the options field or add a line,
// URLs, symlinks it was not asked to follow.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import authorizedKey, { factsScript, overlayFacts, parseFacts, planAuthorizedKey } from '../modules/authorized_key.js';
import { applyPredictions, Predictions } from '../src/predictions.js';
import {
  enforceKeys,
  parseKey,
  parseKeys,
  parseOptions,
  pythonSplitLines,
  serializeKeys,
  type KeyRequest,
} from '../src/remote/authorized-keys.js';
import { keyOptionsProblem } from '../src/encode/key-options.js';
import { parsePasswd } from '../src/remote/accounts.js';
import { argErrors } from './modules-harness.js';

const ED = 'AAAAC3NzaC1lZDI1NTE5AAAAIK0mQn0a7qfK9kC8b6pZb3Jx2n4p8dWb0mJr8mKq0Abc';
const RSA = 'AAAAB3NzaC1yc2EAAAADAQABAAABAQC7x9Zk';
const ECDSA = 'AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBFq';
const req = (r: Partial<KeyRequest> & { key: string }): KeyRequest => ({ state: 'present', exclusive: false, ...r });
const edit = (before: string, r: Partial<KeyRequest> & { key: string }) => {
  const out = enforceKeys(before, req(r));
  assert.ok(!('invalid' in out), JSON.stringify(out));
  return out;
};

describe('authorized_keys lines (parsekey, parseoptions, parsekeys, serialize)', () => {
  it('parsekey: options before the type, the blob after it, the rest is the comment', () => {
    assert.deepEqual(parseKey(`no-pty,from="10.0.0.1,10.0.0.2" ssh-ed25519 ${ED} alice@laptop  work\n`, 3), {
      kind: 'key',
      blob: ED,
      type: 'ssh-ed25519',
      options: [
        ['no-pty', null],
        ['from', '"10.0.0.1,10.0.0.2"'],
      ],
      comment: 'alice@laptop work',
      rank: 3,
    });
    // quotes are not special to the word split: a quoted blank splits the options, which are joined again
    assert.deepEqual(parseKey(`command="echo hi" ssh-rsa ${RSA}`, 0), {
      kind: 'key',
      blob: RSA,
      type: 'ssh-rsa',
      options: [['command', '"echo hi"']],
      comment: '',
      rank: 0,
    });
  });

  it('parsekey: a lone # word is a comment line (\\# read as #); no valid type or no blob: not a key', () => {
    assert.deepEqual(parseKey('\\# ssh-rsa AAAA old\n', 0), { kind: 'kept', text: '# ssh-rsa AAAA old\n', rank: 0 });
    assert.equal(parseKey('ssh-foo AAAA x', 0), null);
    assert.equal(parseKey('', 0), null);
    assert.equal(parseKey('no-pty ssh-rsa', 0), null);
  });

  it('parseoptions: commas inside "…" or \'…\' do not split; a name may come twice', () => {
    assert.deepEqual(parseOptions(`from="a,b",permitopen='h:1,h:2',no-pty,from=x`), [
      ['from', '"a,b"'],
      ['permitopen', "'h:1,h:2'"],
      ['no-pty', null],
      ['from', 'x'],
    ]);
    assert.deepEqual(parseOptions(''), []);
  });

  it('parsekeys + serialize: a later duplicate blob takes the first place; identical other lines are written once', () => {
    const text = `# keys\nssh-rsa ${RSA} old\n\n# keys\nssh-rsa ${RSA} new\n`;
    const keys = parseKeys(text);
    assert.deepEqual([...keys.keys()], ['# keys\n', RSA, '\n']);
    assert.equal(serializeKeys(keys), `\n# keys\nssh-rsa ${RSA} new\n`);
  });

  it("Python's splitlines: \\r\\n, \\r, \\v, \\f, \\x1c-\\x1e, \\x85, \\u2028/9 end lines too", () => {
    assert.deepEqual(pythonSplitLines('a\r\nb\rc\vd\x1ce\u2028f\n'), ['a', 'b', 'c', 'd', 'e', 'f']);
    assert.deepEqual(pythonSplitLines('a\nb', true), ['a\n', 'b']);
  });
});

describe('authorized_key: enforce_state', () => {
  it('present: appended after the existing lines; a second run writes nothing', () => {
    const before = `# mine\nssh-rsa ${RSA} bob\n`;
    const first = edit(before, { key: `ssh-ed25519 ${ED} alice` });
    assert.deepEqual(first, { changed: true, content: `${before}ssh-ed25519 ${ED} alice\n` });
    assert.deepEqual(edit(first.content, { key: `ssh-ed25519 ${ED} alice` }), {
      changed: false,
      content: first.content,
    });
  });

  it('several keys in one value, one per line; blank lines and # lines of the value are ignored', () => {
    const out = edit('', { key: `ssh-ed25519 ${ED} a\n\n# not this\r\nssh-rsa ${RSA} b` });
    assert.equal(out.content, `ssh-ed25519 ${ED} a\nssh-rsa ${RSA} b\n`);
  });

  it('present with other options or comment: the line is replaced and moves to the end (Ansible’s rank)', () => {
    const before = `ssh-ed25519 ${ED} alice\nssh-rsa ${RSA} bob\n`;
    const out = edit(before, { key: `ssh-ed25519 ${ED} alice`, keyOptions: 'no-pty,from="10.0.0.1"' });
    assert.equal(out.content, `ssh-rsa ${RSA} bob\nno-pty,from="10.0.0.1" ssh-ed25519 ${ED} alice\n`);
    // options compare as a dict: their order does not matter
    const again = edit(out.content, { key: `ssh-ed25519 ${ED} alice`, keyOptions: 'from="10.0.0.1",no-pty' });
    assert.equal(again.changed, false);
    const renamed = edit(before, { key: `ssh-ed25519 ${ED} alice`, comment: 'alice@ci' });
    assert.equal(renamed.content, `ssh-rsa ${RSA} bob\nssh-ed25519 ${ED} alice@ci\n`);
  });

  it('absent: removed by its blob whatever its options and comment; missing: nothing written', () => {
    const before = `no-pty ssh-ed25519 ${ED} alice\nssh-rsa ${RSA} bob\n`;
    assert.deepEqual(edit(before, { key: `ssh-ed25519 ${ED} other`, state: 'absent' }), {
      changed: true,
      content: `ssh-rsa ${RSA} bob\n`,
    });
    assert.deepEqual(edit(before, { key: `ecdsa-sha2-nistp256 ${ECDSA}`, state: 'absent' }), {
      changed: false,
      content: before,
    });
  });

  it('exclusive: every other line goes, comments and blank lines too; the kept keys keep their places', () => {
    const before = `# header\nssh-rsa ${RSA} bob\n\nssh-ed25519 ${ED} alice\n`;
    const out = edit(before, { key: `ssh-ed25519 ${ED} alice\necdsa-sha2-nistp256 ${ECDSA} ci`, exclusive: true });
    assert.equal(out.content, `ssh-ed25519 ${ED} alice\necdsa-sha2-nistp256 ${ECDSA} ci\n`);
    assert.equal(
      edit(out.content, { key: `ssh-ed25519 ${ED} alice\necdsa-sha2-nistp256 ${ECDSA} ci`, exclusive: true }).changed,
      false,
    );
  });

  it('an invalid key is refused, with the line', () => {
    assert.deepEqual(enforceKeys('', req({ key: `ssh-ed25519 ${ED}\nnot a key` })), { invalid: 'not a key' });
  });

  it('deviations: a kept last line without its newline keeps its own line; blanks in a comment converge', () => {
    assert.equal(edit('# no newline', { key: `ssh-rsa ${RSA}` }).content, `# no newline\nssh-rsa ${RSA} \n`);
    const first = edit('', { key: `ssh-rsa ${RSA}`, comment: 'two  blanks' });
    assert.equal(first.content, `ssh-rsa ${RSA} two blanks\n`);
    assert.equal(edit(first.content, { key: `ssh-rsa ${RSA}`, comment: 'two  blanks' }).changed, false);
  });
});

describe('authorized_key: what a value cannot do', () => {
  it('key_options: a line break, a blank outside quotes or an open quote would end the options or add a line', () => {
    assert.equal(keyOptionsProblem('no-pty,from="10.0.0.1 10.0.0.2",command="a \\" b"'), undefined);
    assert.match(keyOptionsProblem(`no-pty\nssh-ed25519 ${ED} evil`) ?? '', /one line/);
    assert.match(keyOptionsProblem(`no-pty ssh-ed25519 ${ED}`)!, /blank outside double quotes/);
    assert.match(keyOptionsProblem('command="x') ?? '', /unclosed/);
    // the schema refuses them (a literal is a validation error; a templated one fails the task)
    assert.ok(argErrors(authorizedKey, { user: 'alice', key: `ssh-rsa ${RSA}`, key_options: 'a b' }).length > 0);
    assert.ok(
      argErrors(authorizedKey, { user: 'alice', key: `ssh-rsa ${RSA}`, comment: 'x\nssh-rsa AAAA' }).length > 0,
    );
    // and the printer refuses again what got past a schema
    assert.deepEqual(enforceKeys('', req({ key: `ssh-rsa ${RSA}`, keyOptions: 'a\nb' })), { invalid: 'a\nb' });
  });

  it('a key with a line break is several keys, each its own line (as Ansible splits them)', () => {
    const out = edit('', { key: `ssh-rsa ${RSA} a\nssh-ed25519 ${ED} injected`, keyOptions: 'no-pty' });
    assert.equal(out.content, `no-pty ssh-rsa ${RSA} a\nno-pty ssh-ed25519 ${ED} injected\n`);
  });

  it('a URL is refused with a clear error; an unknown argument too', () => {
    const errors = argErrors(authorizedKey, { user: 'alice', key: 'https://github.com/alice.keys' });
    assert.match(errors.join('\n'), /URL/);
    assert.ok(argErrors(authorizedKey, { user: 'alice', key: `ssh-rsa ${RSA}`, bogus: 1 }).length > 0);
    assert.ok(argErrors(authorizedKey, { user: '-o', key: `ssh-rsa ${RSA}` }).length > 0);
  });
});

const ALICE = parsePasswd('alice:x:1000:1001:Alice:/home/alice:/bin/bash\n')!;
const DIR = { type: 'directory' as const, mode: 0o700, uid: 1000, gid: 1001, size: 4096 };
const FILE = { type: 'file' as const, mode: 0o600, uid: 1000, gid: 1001, size: 100 };
const args = (a: Record<string, unknown>) =>
  authorizedKey.args.parse({ user: 'alice', key: `ssh-ed25519 ${ED} a`, ...a });
const KEYFILE = '/home/alice/.ssh/authorized_keys';

describe('authorized_key: plans (keyfile, enforce_state, main)', () => {
  it('facts: what the script prints is read back, paths as base64', () => {
    const b = (s: string) => Buffer.from(s).toString('base64');
    const out = [
      `U 0 ${b('alice:x:1000:1001:Alice:/home/alice:/bin/bash')}`,
      `K ${b(KEYFILE)}`,
      'D 41c0 1000 1001 4096',
      'F -',
      `RD ${b('/home/alice/.ssh')}`,
    ].join('\n');
    assert.deepEqual(parseFacts(out, 'alice'), {
      user: ALICE,
      keyfile: KEYFILE,
      dir: DIR,
      file: undefined,
      realDir: '/home/alice/.ssh',
    });
    assert.match(factsScript(args({})), /getent passwd alice\b/);
  });

  it('a new file: .ssh made 0700 and given to the user, the file written 0600 as the user; Ansible’s result', () => {
    const p = planAuthorizedKey({ user: ALICE, keyfile: KEYFILE, realDir: '/home/alice/.ssh' }, args({}), {
      check: false,
    });
    assert.equal(p.fail, undefined);
    const descr = p.changes.map((c) => c.description);
    assert.deepEqual(descr, [
      'mkdir /home/alice/.ssh',
      'chown 1000:1001 /home/alice/.ssh',
      'chmod 0700 /home/alice/.ssh',
      `write ${KEYFILE} (0600, alice)`,
    ]);
    const write = p.changes[3];
    assert.equal(write.stdin!.toString(), `ssh-ed25519 ${ED} a\n`);
    assert.match(write.argv![2], /chown 1000:1001 \/proc\/self\/fd\/3/);
    assert.match(write.argv![2], /chmod 0600 \/proc\/self\/fd\/3/);
    assert.deepEqual(p.result, {
      user: 'alice',
      key: `ssh-ed25519 ${ED} a`,
      path: null,
      manage_dir: true,
      state: 'present',
      key_options: null,
      exclusive: false,
      comment: null,
      validate_certs: true,
      follow: false,
      keyfile: KEYFILE,
    });
    assert.deepEqual(p.diff, {
      before_header: KEYFILE,
      after_header: KEYFILE,
      before: '',
      after: `ssh-ed25519 ${ED} a\n`,
    });
  });

  it('the key already there: no change, even when the directory’s mode is off (Ansible touches it only when writing)', () => {
    const p = planAuthorizedKey(
      { user: ALICE, keyfile: KEYFILE, dir: { ...DIR, mode: 0o755 }, file: FILE, content: `ssh-ed25519 ${ED} a\n` },
      args({}),
      { check: false },
    );
    assert.deepEqual(p.changes, []);
  });

  it('check mode: changed and the diff only, as Ansible’s exit_json(changed=True, diff=diff)', () => {
    const p = planAuthorizedKey({ user: ALICE, keyfile: KEYFILE, dir: DIR, file: FILE, content: '' }, args({}), {
      check: true,
    });
    assert.equal(p.changes.length, 1);
    assert.deepEqual(p.result, {});
    assert.equal((p.diff as { after: string }).after, `ssh-ed25519 ${ED} a\n`);
  });

  it('check mode: a later task sees the file as earlier tasks would leave it (overlay of their predictions)', () => {
    const predicted = new Predictions();
    const fresh = { user: ALICE, keyfile: KEYFILE, realDir: '/home/alice/.ssh' };
    const first = planAuthorizedKey(fresh, args({}), { check: true });
    applyPredictions(predicted, first.predict ?? []);
    const seen = overlayFacts(fresh, predicted);
    assert.equal(seen.content, `ssh-ed25519 ${ED} a\n`);
    assert.equal(seen.dir?.mode, 0o700);
    const second = planAuthorizedKey(seen, args({ key: `ssh-rsa ${RSA} b` }), { check: true });
    assert.equal((second.diff as { after: string }).after, `ssh-ed25519 ${ED} a\nssh-rsa ${RSA} b\n`);
    assert.deepEqual(planAuthorizedKey(seen, args({}), { check: true }).changes, []);
  });

  it('a missing user: Ansible’s messages (check mode without path, and a real run)', () => {
    assert.equal(
      planAuthorizedKey({}, args({}), { check: true }).fail,
      'Either user must exist or you must provide full path to key file in check mode',
    );
    assert.equal(
      planAuthorizedKey({}, args({}), { check: false }).fail,
      `Failed to lookup user alice: "getpwnam(): name not found: 'alice'"`,
    );
  });

  it('symlinks the user may have put there: not followed unless asked; .ssh not chowned through one', () => {
    const link = { ...FILE, type: 'link' as const };
    const viaLink = planAuthorizedKey({ user: ALICE, keyfile: KEYFILE, dir: DIR, file: link }, args({}), {
      check: false,
    });
    assert.match(viaLink.fail!, /is a symlink: not read or replaced through it/);
    const dirLink = planAuthorizedKey(
      { user: ALICE, keyfile: KEYFILE, dir: { ...DIR, type: 'link' }, realDir: '/etc' },
      args({}),
      { check: false },
    );
    assert.match(dirLink.fail!, /manage_dir does not chown or chmod through it/);
    const followed = planAuthorizedKey(
      { user: ALICE, keyfile: KEYFILE, dir: DIR, file: link, target: '/srv/keys/alice', targetStat: FILE, content: '' },
      args({ follow: true }),
      { check: false },
    );
    assert.equal(followed.changes.at(-1)!.description, 'write /srv/keys/alice (0600, alice)');
  });
});
