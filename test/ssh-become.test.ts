// become over SSH with real sudo: test users with sudoers rules, the password
// only as the answer to sudo's prompt (never to the command, whether sudo asks
// or not), sudo refusals reported as become failures (fast, no hang), and task
// timeouts that kill the command on the host.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { inspect } from 'node:util';
import { openConnection, BecomeError } from '../src/connection/index.js';
import { buildCommand } from '../src/connection/command.js';
import { createModuleContext } from '../src/module-runner.js';
import { runBatch } from '../src/remote/batch.js';
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
  const c = openConnection(
    `become-${user}`,
    env.hostVars(host, { ansible_user: user }),
    env.options({ onDebug: (m) => debug.push(m) }),
  );
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
  await becomeFails(
    c.exec(none.command, none),
    /^become: sudo requires a password: set ansible_become_password or use -K$/,
  );
  assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
});

test('a user without sudo rights gets a become failure, not a command result', async () => {
  const c = connAs(plainUser);
  const cmd = buildCommand(['id', '-u'], { become: { user: 'root', password: 'plain pw' } });
  await becomeFails(c.exec(cmd.command, cmd), new RegExp(`^become: ${plainUser} may not run this command with sudo`));
});

test("a become command's own exit status is passed through untouched", async () => {
  const c = connAs(npUser);
  const cmd = buildCommand(['sh', '-c', 'echo "sudo: 1 incorrect password attempt" >&2; exit 2'], {
    become: { user: 'root' },
  });
  const r = await c.exec(cmd.command, cmd);
  assert.equal(r.rc, 2);
  const one = buildCommand(['test', '-e', '/nonexistent-phx'], { become: { user: 'root' } });
  assert.equal((await c.exec(one.command, one)).rc, 1);
});

const DATA = 'data\n';

test('the password never reaches a command when sudo does not ask (NOPASSWD, root login)', async () => {
  for (const c of [connAs(npUser), connAs('root')]) {
    const cat = buildCommand(['cat'], { become: { user: 'root', password: SUDO_PW }, stdin: DATA });
    const r = await c.exec(cat.command, cat);
    assert.equal(r.rc, 0, r.stderr);
    assert.equal(r.stdout, DATA, 'exactly the stdin, no password, no marker');
    assert.equal(r.stderr, '');
    const quiet = buildCommand(['sh', '-c', 'cat; echo "rc=$?"'], { become: { user: 'root', password: SUDO_PW } });
    assert.equal((await c.exec(quiet.command, quiet)).stdout, 'rc=0\n', 'no stdin given: the command reads none');
  }
});

test('sudo asking for the password: stdin arrives intact, hostile and binary bytes, and more than 1 MB', async () => {
  const c = connAs(pwUser);
  const b = { user: 'root', password: SUDO_PW };
  const cat = buildCommand(['cat'], { become: b, stdin: DATA });
  const r = await c.exec(cat.command, cat);
  assert.deepEqual([r.rc, r.stdout, r.stderr], [0, DATA, ''], 'no prompt on stderr, no marker on stdout');

  // every byte value, text that looks like the marker and prompt, no trailing newline
  const hostile = Buffer.concat([
    Buffer.from(`${cat.become!.marker}\n[phx-sudo@${'0'.repeat(16)}] ${SUDO_PW}\n\0\r\n`),
    Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
    randomBytes(4096),
  ]);
  const file = join(env.root, `hostile-${randomBytes(3).toString('hex')}`);
  const w = buildCommand(['sh', '-c', 'cat > "$1"', 'sh', file], { become: b, stdin: hostile });
  const wr = await c.exec(w.command, w);
  assert.equal(wr.rc, 0, wr.stderr);
  assert.ok((await readFile(file)).equals(hostile), 'byte for byte');
  assert.equal((await stat(file)).uid, 0);

  const big = randomBytes(3 * 1024 * 1024 + 17);
  const sum = buildCommand(['sh', '-c', 'wc -c; id -u'], { become: b, stdin: big });
  const sr = await c.exec(sum.command, sum);
  assert.equal(sr.stdout, `${big.length}\n0\n`);
  const back = buildCommand(['cat'], { become: b, stdin: big });
  const br = await c.exec(back.command, back);
  assert.equal(br.stdout.length, Buffer.from(big.toString('utf8')).toString('utf8').length, 'all of it came back');
});

test('the password is in no command line, debug line, output or error', async () => {
  const c = connAs(pwUser);
  const built = [
    buildCommand(['id'], { become: { user: 'root', password: SUDO_PW } }),
    buildCommand(
      { shell: 'echo hi' },
      { become: { user: npUser, password: SUDO_PW }, chdir: '/tmp', env: { A: 'b' }, timeoutMs: 5000 },
    ),
  ];
  for (const b of built) {
    assert.ok(!b.command.includes(SUDO_PW) && !b.command.includes("'with'"), b.command);
    // stdin carries the environment's values (never the command line), not the password
    assert.ok(b.stdin === undefined || !Buffer.from(b.stdin).toString().includes(SUDO_PW), 'the password is not stdin');
    assert.ok(
      !JSON.stringify(b).includes("'with'") && !inspect(b).includes("'with'"),
      'nor shown when the built command is logged',
    );
    assert.match(b.command, /^sudo -H -S -p '\[phx-sudo@[0-9a-f]{16}\] ' -u /);
    const r = await c.exec(b.command, b);
    assert.ok(!r.stdout.includes(SUDO_PW) && !r.stderr.includes(SUDO_PW));
  }
  assert.notEqual(built[0].become!.marker, built[1].become!.marker, 'a new nonce per command');
  assert.match(buildCommand(['id'], { become: { user: 'root' } }).command, /^sudo -H -n -u root -- sh -c /);
  assert.ok(
    debug.some((m) => m.includes('sudo -H -S')),
    'the debug log has the commands',
  );
  assert.ok(!debug.some((m) => m.includes(SUDO_PW)), 'but never the password');
});

async function pgrep(pattern: string): Promise<string> {
  return new Promise((res) => {
    execFile('pgrep', ['-f', '-a', pattern], (_e, stdout) => res(stdout));
  });
}

test('a task timeout kills the command on the host, with and without become', async () => {
  for (const [login, become] of [
    ['root', undefined],
    [npUser, { user: 'root' }],
  ] as const) {
    const c = connAs(login);
    const mark = `${900 + Math.floor(Math.random() * 99)}.${randomBytes(4).readUInt32BE()}`;
    const cmd = buildCommand({ shell: `sleep ${mark}; echo never` }, { become, timeoutMs: 1500 });
    assert.match(cmd.command, /timeout -s KILL 1\.5 sh -c/);
    const t0 = Date.now();
    const running = c.exec(cmd.command, { ...cmd, timeoutMs: 1500 });
    await new Promise((r) => setTimeout(r, 700));
    assert.match(await pgrep(`^sleep ${mark}`), new RegExp(`sleep ${mark}`), 'it runs');
    const r = await running;
    const took = Date.now() - t0;
    assert.equal(r.rc, 137);
    assert.match(r.stderr, /phx-play: command timed out after 1.5 s/);
    assert.doesNotMatch(r.stdout, /never/);
    assert.ok(took >= 1500 && took < 1500 + 2500, `took ${took} ms`);
    assert.equal(await pgrep(`sleep ${mark}`), '', 'nothing left on the host');
    assert.equal((await c.exec('echo alive')).stdout, 'alive\n');
  }
});

test('through the module context: become with a password and stdin, and a task timeout that aborts the exec', async () => {
  const conn = connAs(pwUser);
  const commands: string[] = [];
  const base = {
    host: 'h',
    conn,
    become: { user: 'root', password: SUDO_PW },
    onCommand: (c: string) => commands.push(c),
  };
  const ctx = createModuleContext(base);
  assert.equal((await ctx.run(['cat'], { stdin: DATA })).stdout, DATA);
  assert.equal((await ctx.run(['id', '-u'], { noBecome: true })).stdout.trim() !== '0', true);

  // the executor aborts the task at its timeout; the host's own `timeout` still ends the command
  const abort = new AbortController();
  const mark = `${900 + Math.floor(Math.random() * 99)}.${randomBytes(4).readUInt32BE()}`;
  const timed = createModuleContext({ ...base, timeoutMs: 1000, signal: abort.signal });
  setTimeout(() => abort.abort(), 1000);
  const running = assert.rejects(timed.runShell(`sleep ${mark}`), { name: 'AbortError' });
  await new Promise((r) => setTimeout(r, 600));
  assert.match(await pgrep(`^sleep ${mark}`), /sleep/, 'it runs');
  await running;
  await new Promise((r) => setTimeout(r, 1200));
  assert.equal(await pgrep(`sleep ${mark}`), '', 'the host killed it at its timeout');
  assert.ok(commands.every((c) => !c.includes(SUDO_PW)));
});

test("runBatch through sudo, asked for a password (exec channel) or not (remote shell): each command's stdout, stderr and rc", async () => {
  const batch: (readonly string[] | { shell: string })[] = [
    ['id', '-u'],
    ['sh', '-c', 'printf "e\\000rr" >&2; printf "o\\000ut"; exit 5'],
    { shell: 'echo "$(id -un)"; echo warn >&2' },
  ];
  const want = [
    { rc: 0, stdout: '0\n', stderr: '' },
    { rc: 5, stdout: 'o\0ut', stderr: 'e\0rr' },
    { rc: 0, stdout: 'root\n', stderr: 'warn\n' },
  ];
  const asked = createModuleContext({
    host: 'pw',
    conn: connAs(pwUser),
    become: { user: 'root', password: SUDO_PW },
  });
  assert.deepEqual(await runBatch(asked, batch), want);
  const nopasswd = createModuleContext({ host: 'np', conn: connAs(npUser), become: { user: 'root' } });
  assert.deepEqual(await runBatch(nopasswd, batch), want);
});
