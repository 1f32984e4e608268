// become over ansible_connection: local, with real sudo. The controller runs
// as root here, so sudo never asks; `runuser` to a test user makes it ask, to
// drive the same prompt/marker exchange through LocalConnection's pipes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { LocalConnection } from '../src/connection/local.js';
import { BecomeError, ExecStreams } from '../src/connection/become.js';
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
  await becomeFails(
    asUser(pwUser, buildCommand(['id'], { become: { user: 'root', password: 'wrong' }, stdin: 'x\n' })),
    /^become: incorrect sudo password$/,
  );
  assert.ok(Date.now() - t0 < 8000, `${Date.now() - t0} ms`);
  t0 = Date.now();
  await becomeFails(
    asUser(pwUser, buildCommand(['cat'], { become: { user: 'root' }, stdin: `${PW}\n` })),
    /^become: sudo requires a password/,
  );
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

test('the sudo exchange, chunk by chunk: a prompt split in two is one prompt; stdin waits for the marker', () => {
  const b = buildCommand(['cat'], { become: { user: 'root', password: PW }, stdin: 'in' });
  const sent: string[] = [];
  const failures: BecomeError[] = [];
  const s = new ExecStreams(b.stdin, b.become, {
    write: (d) => sent.push(`write:${String(d)}`),
    end: (d) => sent.push(`end:${d === undefined ? '' : String(d)}`),
    fail: (e) => failures.push(e),
  });
  s.start();
  assert.deepEqual(sent, [], 'nothing before sudo asks');
  const prompt = b.become!.prompt;
  s.onStderr(Buffer.from(`lecture\n${prompt.slice(0, 5)}`));
  s.onStderr(Buffer.from(prompt.slice(5)));
  assert.deepEqual(sent, [`write:${PW}\n`]);
  s.onStdout(Buffer.from(`${b.become!.marker}\nout`));
  assert.deepEqual(sent, [`write:${PW}\n`, 'end:in']);
  s.onStderr(Buffer.from(`echoed ${prompt}`)); // the command's own output, after the start
  assert.deepEqual(s.output(), { stdout: 'out', stderr: `lecture\nechoed ${prompt}` });
  assert.equal(failures.length, 0);
  assert.equal(
    s.failure({ rc: 1, stdout: '', stderr: 'sudo: 3 incorrect password attempts\n' }, false),
    undefined,
    'the command ran: its rc is its own',
  );

  const again = new ExecStreams('in', b.become, { write: () => {}, end: () => {}, fail: (e) => failures.push(e) });
  again.start();
  again.onStderr(Buffer.from(prompt));
  again.onStderr(Buffer.from(`Sorry, try again.\n${prompt}`));
  assert.equal(failures.length, 1);
  assert.equal(failures[0].message, 'become: incorrect sudo password');
  assert.equal(again.output().stderr, 'Sorry, try again.\n', 'prompts removed');
});

test('a password with a line break is refused before anything runs', () => {
  assert.throws(() => buildCommand(['id'], { become: { user: 'root', password: 'a\nb' } }), /line break/);
});
