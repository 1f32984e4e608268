// known_hosts matching and ~/.ssh/config resolution, checked against what
// OpenSSH's own tools produce (ssh-keygen -H hashes, ssh-keygen -l fingerprints).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '../lab/sshd.js';
import {
  appendKnownHost,
  checkHostKey,
  fingerprint,
  knownHostsName,
  matchPatternList,
  parseKnownHosts,
  readKnownHosts,
} from '../src/connection/known-hosts.js';
import { parseJumpSpec, resolveSshConfig } from '../src/connection/ssh-config.js';
import { fingerprintOf, run } from './harness/ssh-env.js';

let dir: string;
let keyA: { line: string; blob: Buffer };
let keyB: { line: string; blob: Buffer };
let keyR: { line: string; blob: Buffer };

const blobOf = (line: string) => Buffer.from(line.split(' ')[1], 'base64');

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'phx-knownhosts-'));
  const a = await generateKeyPair(join(dir, 'a'));
  const b = await generateKeyPair(join(dir, 'b'));
  const r = await generateKeyPair(join(dir, 'r'), 'rsa');
  keyA = { line: a.publicKey.split(' ').slice(0, 2).join(' '), blob: blobOf(a.publicKey) };
  keyB = { line: b.publicKey.split(' ').slice(0, 2).join(' '), blob: blobOf(b.publicKey) };
  keyR = { line: r.publicKey.split(' ').slice(0, 2).join(' '), blob: blobOf(r.publicKey) };
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('fingerprint is the one ssh-keygen -l prints', async () => {
  assert.equal(fingerprint(keyA.blob), await fingerprintOf(keyA.line, dir));
  assert.equal(fingerprint(keyR.blob), await fingerprintOf(keyR.line, dir));
});

test('known_hosts name: plain on port 22, [host]:port otherwise', () => {
  assert.equal(knownHostsName('pve1', 22), 'pve1');
  assert.equal(knownHostsName('127.0.0.1', 2201), '[127.0.0.1]:2201');
});

test('plain entries: comma lists, patterns, negation, [host]:port, changed and unknown keys', () => {
  const text = [
    '# comment',
    `pve1,10.0.0.1 ${keyA.line}`,
    `[127.0.0.1]:2201 ${keyA.line}`,
    `*.lab,!bad.lab ${keyB.line}`,
    `127.0.0.1 ${keyB.line}`,
  ].join('\n');
  const e = parseKnownHosts(text, 'kh');
  assert.equal(checkHostKey(e, 'pve1', keyA.blob).status, 'known');
  assert.equal(checkHostKey(e, '10.0.0.1', keyA.blob).status, 'known');
  assert.equal(checkHostKey(e, '[127.0.0.1]:2201', keyA.blob).status, 'known');
  // the port-less entry for 127.0.0.1 does not vouch for port 2202
  assert.equal(checkHostKey(e, '[127.0.0.1]:2202', keyB.blob).status, 'unknown');
  assert.equal(checkHostKey(e, 'x.lab', keyB.blob).status, 'known');
  assert.equal(checkHostKey(e, 'bad.lab', keyB.blob).status, 'unknown');
  const changed = checkHostKey(e, 'pve1', keyB.blob);
  assert.equal(changed.status, 'changed');
  assert.ok(changed.status === 'changed' && changed.entry.file === 'kh' && changed.entry.line === 2);
  const other = checkHostKey(e, 'pve1', keyR.blob);
  assert.ok(
    other.status === 'unknown' && other.otherTypes.length === 1,
    'an rsa key where only ed25519 is known is not trusted',
  );
});

test('hashed entries made by ssh-keygen -H match, and only their host', async () => {
  const f = join(dir, 'hashed');
  await writeFile(f, `pve1 ${keyA.line}\n[127.0.0.1]:2222 ${keyB.line}\n`);
  await run('ssh-keygen', ['-H', '-f', f]);
  const text = await readFile(f, 'utf8');
  assert.match(text, /^\|1\|/m);
  assert.doesNotMatch(text, /pve1/);
  const e = await readKnownHosts([f]);
  assert.equal(checkHostKey(e, 'pve1', keyA.blob).status, 'known');
  assert.equal(checkHostKey(e, '[127.0.0.1]:2222', keyB.blob).status, 'known');
  assert.equal(checkHostKey(e, 'pve2', keyA.blob).status, 'unknown');
  assert.equal(checkHostKey(e, 'pve1', keyB.blob).status, 'changed');
});

test('@revoked refuses the key for every host; @cert-authority is ignored with a note', () => {
  const notes: string[] = [];
  const e = parseKnownHosts(
    `@revoked * ${keyA.line}\npve1 ${keyA.line}\n@cert-authority *.lab ${keyB.line}\n`,
    'kh',
    (n) => notes.push(n),
  );
  assert.equal(checkHostKey(e, 'pve1', keyA.blob).status, 'revoked');
  assert.equal(checkHostKey(e, 'x.lab', keyB.blob).status, 'unknown');
  assert.ok(notes.some((n) => /cert-authority/.test(n)));
});

test('pattern lists: ? and * and negation', () => {
  assert.ok(matchPatternList('pve12', 'pve??'));
  assert.ok(!matchPatternList('pve1', 'pve??'));
  assert.ok(matchPatternList('PVE1.example.org', '*.example.org'));
  assert.ok(!matchPatternList('pve1.example.org', '*.example.org,!pve1.*'));
});

test('appendKnownHost: parallel appends give whole lines, no duplicates', async () => {
  const f = join(dir, 'sub', 'known_hosts');
  const keys = await Promise.all(Array.from({ length: 10 }, (_, i) => generateKeyPair(join(dir, `p${i}`))));
  await Promise.all(keys.map((k, i) => appendKnownHost(f, `[127.0.0.1]:${3000 + i}`, blobOf(k.publicKey))));
  await appendKnownHost(f, '[127.0.0.1]:3000', blobOf(keys[0].publicKey));
  const lines = (await readFile(f, 'utf8')).trim().split('\n');
  assert.equal(lines.length, 10);
  const e = await readKnownHosts([f]);
  keys.forEach((k, i) => assert.equal(checkHostKey(e, `[127.0.0.1]:${3000 + i}`, blobOf(k.publicKey)).status, 'known'));
});

test('each connection reads known_hosts, parsed once while the file is unchanged; a change is seen', async () => {
  const f = join(dir, 'cached_known_hosts');
  await writeFile(f, `pve1 ${keyA.line}\n@cert-authority *.lab ${keyB.line}\n`);
  const notes: string[][] = [[], []];
  const first = await readKnownHosts([f], (n) => notes[0].push(n));
  const again = await readKnownHosts([f], (n) => notes[1].push(n));
  assert.equal(first.length, 1);
  assert.equal(again[0], first[0], 'the same parsed entry: not parsed again');
  // what parsing had to say reaches every connection's debug output, not only the first one's
  assert.equal(notes[1].length, 1);
  assert.deepEqual(notes[1], notes[0]);
  // our own accept-new append is seen by the next connection
  await appendKnownHost(f, 'pve2', keyB.blob);
  const appended = await readKnownHosts([f]);
  assert.notEqual(appended[0], first[0], 'parsed again');
  assert.equal(checkHostKey(appended, 'pve2', keyB.blob).status, 'known');
  // so is a rewrite by anyone else, and a file that went away
  await writeFile(f, `pve1 ${keyB.line}\n`);
  assert.equal(checkHostKey(await readKnownHosts([f]), 'pve1', keyA.blob).status, 'changed');
  await rm(f);
  assert.deepEqual(await readKnownHosts([f]), []);
});

test('ssh config: each file is parsed once while unchanged; an edit of it or of an included file is seen', async () => {
  const home = join(dir, 'home-cached');
  await mkdir(join(home, '.ssh'), { recursive: true });
  const cfg = join(home, '.ssh', 'config');
  const inc = join(home, '.ssh', 'inc.conf');
  const ctx = { homeDir: home, localUser: 'me' };
  await writeFile(inc, 'Port 2201\n');
  await writeFile(cfg, 'Host pve1\n  HostName 10.0.0.1\n  Include inc.conf\n');
  assert.deepEqual(resolveSshConfig([cfg], 'pve1', ctx), { identityFiles: [], hostName: '10.0.0.1', port: 2201 });
  assert.deepEqual(resolveSshConfig([cfg], 'pve1', ctx), { identityFiles: [], hostName: '10.0.0.1', port: 2201 });
  await writeFile(cfg, 'Host pve1\n  HostName 10.0.0.2\n  Include inc.conf\n');
  await writeFile(inc, 'Port 2202\n');
  assert.deepEqual(resolveSshConfig([cfg], 'pve1', ctx), { identityFiles: [], hostName: '10.0.0.2', port: 2202 });
  await rm(cfg);
  assert.deepEqual(resolveSshConfig([cfg], 'pve1', ctx), { identityFiles: [] });
});

test('ssh config: matching Host blocks, first value wins, IdentityFile accumulates, tokens, Include', async () => {
  const home = join(dir, 'home');
  await mkdir(join(home, '.ssh', 'conf.d'), { recursive: true });
  await writeFile(join(home, '.ssh', 'conf.d', 'extra.conf'), 'Host pve*\n  IdentityFile ~/.ssh/from_include\n');
  await writeFile(
    join(home, '.ssh', 'config'),
    [
      'Include conf.d/*.conf',
      'Host pve1 !pve9',
      '  HostName %h.lab.example',
      '  User admin',
      '  IdentityFile ~/.ssh/pve_%r_%h',
      'Host pve? ',
      '  Port 2201',
      '  User ignored-because-first-wins',
      '  ProxyJump jumper@bastion:2222,second',
      'Host bastion',
      '  HostName 127.0.0.9',
      'Host *',
      '  Port 22',
      '  IdentityFile ~/.ssh/id_extra',
    ].join('\n'),
  );
  const ctx = { homeDir: home, localUser: 'me' };
  const files = [join(home, '.ssh', 'config')];
  const c = resolveSshConfig(files, 'pve1', ctx);
  assert.equal(c.hostName, 'pve1.lab.example');
  assert.equal(c.user, 'admin');
  assert.equal(c.port, 2201);
  assert.deepEqual(c.proxyJump, ['jumper@bastion:2222', 'second']);
  assert.deepEqual(c.identityFiles, [
    join(home, '.ssh', 'from_include'),
    join(home, '.ssh', 'pve_admin_pve1.lab.example'),
    join(home, '.ssh', 'id_extra'),
  ]);
  const nine = resolveSshConfig(files, 'pve9', ctx);
  assert.equal(nine.hostName, undefined, 'negated pattern keeps pve9 out of the first block');
  assert.equal(nine.port, 2201);
  const b = resolveSshConfig(files, 'bastion', ctx);
  assert.equal(b.hostName, '127.0.0.9');
  assert.equal(b.port, 22);
  assert.equal(b.proxyJump, undefined);
});

test('ProxyJump hop specs', () => {
  assert.deepEqual(parseJumpSpec('root@127.0.0.1:2222'), { user: 'root', host: '127.0.0.1', port: 2222 });
  assert.deepEqual(parseJumpSpec('bastion'), { user: undefined, host: 'bastion', port: undefined });
  assert.deepEqual(parseJumpSpec('u@[::1]:22'), { user: 'u', host: '::1', port: 22 });
});
