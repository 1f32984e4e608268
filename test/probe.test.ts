// The read every file-ish module starts with (src/remote/probe.ts), on real
// files through the local connection: account names a probed path is already
// owned by cost no getent, other names still get one, and the identity (`id`,
// umask) is asked once per connection and become user.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, chown } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalConnection } from '../src/connection/local.js';
import { createModuleContext } from '../src/module-runner.js';
import { parseProbe, probe, probeScript, type ProbeRequest } from '../src/remote/probe.js';

const conn = new LocalConnection();
let dir: string;
let file: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'phx-probe-'));
  file = join(dir, 'owned-by-nobody');
  await writeFile(file, 'x');
  await chown(file, 65534, 65534); // nobody:nogroup on Debian
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function raw(req: ProbeRequest): Promise<string> {
  const r = await conn.exec(probeScript(req));
  assert.equal(r.rc, 0, r.stderr);
  return r.stdout;
}

test("a name the probed path is owned by resolves from stat's own line, without getent", async () => {
  const req: ProbeRequest = { paths: [{ path: file }], users: ['nobody'], groups: ['nogroup'] };
  const out = await raw(req);
  assert.match(out, /^U0 =$/m);
  assert.match(out, /^G0 =$/m);
  const r = parseProbe(req, out);
  assert.deepEqual(r.users.get('nobody'), { name: 'nobody', id: 65534 });
  assert.deepEqual(r.groups.get('nogroup'), { name: 'nogroup', id: 65534 });
});

test('other names, numeric ids and unknown names still go to getent', async () => {
  const req: ProbeRequest = {
    paths: [{ path: file }, { path: join(dir, 'missing') }],
    users: ['root', '0', 'phx-no-such-user', 'UNKNOWN'],
    groups: ['root'],
  };
  const out = await raw(req);
  assert.doesNotMatch(out, /^[UG]\d+ =$/m);
  const r = parseProbe(req, out);
  assert.deepEqual(r.users.get('root'), { name: 'root', id: 0 });
  assert.deepEqual(r.users.get('0'), { name: 'root', id: 0 });
  assert.equal(r.users.get('phx-no-such-user'), undefined);
  assert.ok(r.users.has('phx-no-such-user'), 'asked, and answered "no such user"');
  assert.deepEqual(r.groups.get('root'), { name: 'root', id: 0 });
  assert.equal(r.paths[1].exists, false);
});

test('the identity is asked once per connection and become user', async () => {
  const commands: string[] = [];
  const ctx = (become?: { user: string }) =>
    createModuleContext({ host: 'local', conn, become, onCommand: (c) => commands.push(c) });
  const first = await probe(ctx(), { paths: [{ path: file }], identity: true });
  const second = await probe(ctx(), { paths: [{ path: file }], identity: true });
  assert.equal(first.identity?.uid, process.getuid!());
  assert.deepEqual(second.identity, first.identity);
  assert.match(commands[0], /\bid\b/);
  assert.doesNotMatch(commands[1], /\bid\b/, 'the second read reuses the identity');
  // become root is another user as far as the cache knows (sudo's umask may differ)
  const asRoot = await probe(ctx({ user: 'root' }), { identity: true });
  assert.equal(asRoot.identity?.uid, 0);
  assert.match(commands[2], /\bid\b/);
  // another connection to the same host asks again
  const other = new LocalConnection();
  const commands2: string[] = [];
  await probe(createModuleContext({ host: 'local', conn: other, onCommand: (c) => commands2.push(c) }), {
    identity: true,
  });
  assert.match(commands2[0], /\bid\b/);
});

test('existsIfExists: a path is reported existing, unexamined, when the other one exists (a dangling link too)', async () => {
  const { symlink } = await import('node:fs/promises');
  const dangling = join(dir, 'dangling');
  await symlink(join(dir, 'nowhere'), dangling);
  const req: ProbeRequest = {
    paths: [
      { path: file },
      { path: dir, existsIfExists: file },
      { path: dir, existsIfExists: dangling },
      { path: dir, existsIfExists: join(dir, 'missing') },
      { path: join(dir, 'missing-parent'), existsIfExists: join(dir, 'missing-parent', 'x') },
    ],
  };
  const out = await raw(req);
  assert.match(out, /^X1$/m);
  assert.match(out, /^X2$/m);
  assert.doesNotMatch(out, /^S[12] /m, 'not stat-ed');
  const r = parseProbe(req, out);
  assert.deepEqual(r.paths[1], { exists: true, implied: true });
  assert.deepEqual(r.paths[2], { exists: true, implied: true });
  assert.equal(r.paths[3].type, 'directory', 'the other path is missing: this one is examined');
  assert.deepEqual(r.paths[4], { exists: false });
});

test("a link's target comes from stat's own line (%N, C-quoted), byte for byte, whatever it holds", async () => {
  const { symlink, readlink } = await import('node:fs/promises');
  const targets = [
    'motd',
    'a b',
    'new\nline',
    'quote"d and \\back\\slash',
    "it's ?? (trigraph??( ) \t tab",
    'x" -> "y',
    'caf\u00e9 \u2603',
    '-> "',
  ];
  const req: ProbeRequest = { paths: [] };
  for (const [i, t] of targets.entries()) {
    const at = join(dir, `link-${i}`);
    await symlink(t, at);
    req.paths!.push({ path: at });
  }
  // a name that needs quoting itself, and a target that is not UTF-8
  const odd = join(dir, 'odd "name" -> x');
  await symlink(Buffer.from([0x61, 0xff, 0x0a, 0x62]), Buffer.from(odd));
  req.paths!.push({ path: odd });
  const out = await raw(req);
  assert.doesNotMatch(out, /^L\d/m, 'no readlink line');
  const r = parseProbe(req, out);
  for (const [i, t] of targets.entries()) assert.equal(r.paths[i].linkTarget, t, JSON.stringify(t));
  const oddTarget = await readlink(Buffer.from(odd), { encoding: 'buffer' });
  assert.equal(r.paths[targets.length].linkTarget, oddTarget.toString('utf8'));
  assert.equal(r.paths[targets.length].type, 'link');
});
