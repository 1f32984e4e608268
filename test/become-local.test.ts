// become over ansible_connection: local, with real sudo. The controller runs
// as root here, so sudo never asks; `runuser` to a test user makes it ask, to
// drive the same prompt/marker exchange through LocalConnection's pipes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { LocalConnection } from '../src/connection/local.js';
import { BecomeError } from '../src/connection/become.js';
import { buildCommand, type BuiltCommand } from '../src/connection/command.js';
import type { ExecResult } from '../src/connection/types.js';
import { shellQuote } from '../src/quote.js';
import { createSshEnv, type SshTestEnv } from './harness/ssh-env.js';

const PW = "l0cal 'pw' $(x) \\ ✓";
let env: SshTestEnv;
let pwUser: string;
const conn = new LocalConnection();

/** runs a built command as `user` (who then meets sudo's prompt) */
function asUser(user: string, b: BuiltCommand): Promise<ExecResult> {
  return conn.exec(`runuser -u ${shellQuote(user)} -- sh -c ${shellQuote(b.command)}`, b);
}

async function becomeFails(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof BecomeError, `expected BecomeError, got ${String(e)}`);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes(PW));
    return true;
  });
}

before(async () => {
  env = await createSshEnv('become-local');
  pwUser = await env.addUser('phxlp', PW, 'ALL=(ALL) ALL');
});
after(() => env.cleanup());

test('root controller: become with a password, sudo does not ask, the command gets only its stdin', async () => {
  const cat = buildCommand(['cat'], { become: { user: 'root', password: PW }, stdin: 'data\n' });
  assert.deepEqual(await conn.exec(cat.command, cat), { rc: 0, stdout: 'data\n', stderr: '' });
  const other = buildCommand(['sh', '-c', 'id -un; cat'], { become: { user: pwUser, password: PW }, stdin: 'x' });
  assert.equal((await conn.exec(other.command, other)).stdout, `${pwUser}\nx`);
});

test('sudo asks: the password answers it, stdin (binary, large) arrives after', async () => {
  const stdin = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(2 * 1024 * 1024)]);
  const b = buildCommand(['sh', '-c', 'id -u; wc -c'], { become: { user: 'root', password: PW }, stdin });
  const r = await asUser(pwUser, b);
  assert.deepEqual(r, { rc: 0, stdout: `0\n${stdin.length}\n`, stderr: '' });
  const cat = buildCommand(['cat'], { become: { user: 'root', password: PW }, stdin: 'data\n' });
  assert.deepEqual(await asUser(pwUser, cat), { rc: 0, stdout: 'data\n', stderr: '' });
});

test('sudo asks: a wrong password and no password fail fast', async () => {
  let t0 = Date.now();
  await becomeFails(asUser(pwUser, buildCommand(['id'], { become: { user: 'root', password: 'wrong' }, stdin: 'x\n' })), /^become: incorrect sudo password$/);
  assert.ok(Date.now() - t0 < 8000, `${Date.now() - t0} ms`);
  t0 = Date.now();
  await becomeFails(asUser(pwUser, buildCommand(['cat'], { become: { user: 'root' }, stdin: `${PW}\n` })), /^become: sudo requires a password/);
  assert.ok(Date.now() - t0 < 3000, `${Date.now() - t0} ms`);
});

function pgrep(pattern: string): Promise<string> {
  return new Promise((res) => execFile('pgrep', ['-f', '-a', pattern], (_e, stdout) => res(stdout)));
}

test('a timeout kills the command and its children', async () => {
  for (const become of [undefined, { user: pwUser }]) {
    const mark = `${900 + Math.floor(Math.random() * 99)}.${randomBytes(4).readUInt32BE()}`;
    const b = buildCommand({ shell: `sleep ${mark} & sleep ${mark}; echo never` }, { become, timeoutMs: 1000 });
    const running = conn.exec(b.command, { ...b, timeoutMs: 1000 });
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await pgrep(`^sleep ${mark}`)).trim().split('\n').length, 2);
    const r = await running;
    assert.equal(r.rc, 137);
    assert.match(r.stderr, /timed out after 1 s/);
    assert.equal(await pgrep(`sleep ${mark}`), '', 'nothing left');
  }
});
