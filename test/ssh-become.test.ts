// become over SSH with real sudo: test users with sudoers rules, passwords on
// stdin only, and sudo refusals reported as become failures (fast, no hang).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { openConnection, BecomeError } from '../src/connection/index.js';
import { buildCommand } from '../src/connection/command.js';
import type { Connection } from '../src/connection/types.js';
import type { SshdHandle } from '../lab/sshd.js';
import { createSshEnv, fileExists, type SshTestEnv } from './harness/ssh-env.js';

const SUDO_PW = "sudo pw 'with' $(quotes) #1";
let env: SshTestEnv;
let host: SshdHandle;
let pwUser: string;
let npUser: string;
let plainUser: string;
const debug: string[] = [];
const conns: Connection[] = [];

function connAs(user: string): Connection {
  const c = openConnection(`become-${user}`, env.hostVars(host, { ansible_user: user }), env.options({ onDebug: (m) => debug.push(m) }));
  conns.push(c);
  return c;
}

async function becomeFails(p: Promise<unknown>, pattern: RegExp): Promise<BecomeError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof BecomeError, `expected BecomeError, got ${(e as Error).name}: ${(e as Error).message}`);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes(SUDO_PW), 'the password is not in the error');
    return e;
  }
  assert.fail('expected sudo to refuse');
}

before(async () => {
  env = await createSshEnv('ssh-become');
  // users first: sshd gets their authorized_keys files when it starts
  pwUser = await env.addUser('phxpw', SUDO_PW, 'ALL=(ALL) ALL');
  npUser = await env.addUser('phxnp', 'unused-but-unlocked', 'ALL=(ALL) NOPASSWD: ALL');
  plainUser = await env.addUser('phxno', 'plain pw');
  host = await env.startHost();
});
after(async () => {
  await Promise.all(conns.map((c) => c.close()));
  await env.cleanup();
  assert.equal(fileExists(`/etc/sudoers.d/${pwUser}`), false);
});

test('NOPASSWD sudo: become root and become another user', async () => {
  const c = connAs(npUser);
  assert.equal((await c.exec('id -un')).stdout, `${npUser}\n`);
  const root = buildCommand(['id', '-un'], { become: { user: 'root' } });
  assert.equal((await c.exec(root.command, root)).stdout, 'root\n');
  const other = buildCommand(['sh', '-c', 'id -un; pwd'], { become: { user: pwUser }, chdir: '/tmp' });
  assert.equal((await c.exec(other.command, other)).stdout, `${pwUser}\n/tmp\n`);
});

test('sudo with a password: it goes on stdin, the command still gets its own stdin after it', async () => {
  const c = connAs(pwUser);
  const b = { user: 'root', password: SUDO_PW };
  const who = buildCommand(['id', '-u'], { become: b });
  assert.ok(!who.command.includes(SUDO_PW), 'never on the command line');
  assert.equal((await c.exec(who.command, who)).stdout, '0\n');

  const file = join(env.root, `root-owned-${randomBytes(3).toString('hex')}`);
  const marker = join(env.root, 'owned-by-become');
  const data = `line 1\n$(touch ${marker}) \`touch ${marker}\`\n'"\n\u00fcnicode ✓\n-rf\n`;
  const w = buildCommand(['sh', '-c', 'cat > "$1"; chmod 600 "$1"', 'sh', file], { become: b, stdin: data });
  const r = await c.exec(w.command, w);
  assert.equal(r.rc, 0, r.stderr);
  assert.equal(await readFile(file, 'utf8'), data);
  assert.equal((await stat(file)).uid, 0, 'written as root');
  assert.equal(fileExists(marker), false);
  assert.ok(!debug.some((m) => m.includes(SUDO_PW)), 'the password is not in the debug log');
});

test('a wrong sudo password fails fast with a clear message; the connection stays usable', async () => {
  const c = connAs(pwUser);
  const bad = buildCommand(['id', '-u'], { become: { user: 'root', password: 'not the password' } });
  const t0 = Date.now();
  const e = await becomeFails(c.exec(bad.command, bad), /^become: incorrect sudo password$/);
  assert.ok(!e.message.includes('not the password'));
  assert.ok(Date.now() - t0 < 8000, `took ${Date.now() - t0} ms`);
  assert.equal((await c.exec('echo alive')).stdout, 'alive\n');
});

test('sudo wanting a password when none was given fails at once', async () => {
  const c = connAs(pwUser);
  const none = buildCommand(['id', '-u'], { become: { user: 'root' } });
  const t0 = Date.now();
  await becomeFails(c.exec(none.command, none), /^become: sudo requires a password: set ansible_become_password or use -K$/);
  assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
});

test('a user without sudo rights gets a become failure, not a command result', async () => {
  const c = connAs(plainUser);
  const cmd = buildCommand(['id', '-u'], { become: { user: 'root', password: 'plain pw' } });
  await becomeFails(c.exec(cmd.command, cmd), new RegExp(`^become: ${plainUser} may not run this command with sudo`));
});

test("a become command's own exit status is passed through untouched", async () => {
  const c = connAs(npUser);
  const cmd = buildCommand(['sh', '-c', 'echo "sudo: 1 incorrect password attempt" >&2; exit 2'], { become: { user: 'root' } });
  const r = await c.exec(cmd.command, cmd);
  assert.equal(r.rc, 2);
  const one = buildCommand(['test', '-e', '/nonexistent-phx'], { become: { user: 'root' } });
  assert.equal((await c.exec(one.command, one)).rc, 1);
});
