// The remote shell (src/connection/remote-shell.ts) against real sshd: what a
// command gets back through it is exactly what an exec channel gives, commands
// stay independent of each other, and when the shell cannot serve a command
// (gone, busy, too much stdin, no base64) the command still runs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { openConnection } from '../src/connection/index.js';
import type { Connection } from '../src/connection/types.js';
import { createSshEnv, type SshTestEnv } from './harness/ssh-env.js';

let env: SshTestEnv;
const conns: Connection[] = [];
const track = (c: Connection) => (conns.push(c), c);

before(async () => {
  env = await createSshEnv('rsh');
});
after(async () => {
  await Promise.all(conns.map((c) => c.close()));
  await env.cleanup();
});

/** A connection whose -vvv lines are kept, so a test can tell which way commands went. */
async function connect(name: string, extraConfig?: string[]): Promise<{ c: Connection; debug: string[] }> {
  const h = await env.startHost(extraConfig ? { extraConfig } : undefined);
  const debug: string[] = [];
  const c = track(openConnection(name, env.hostVars(h), env.options({ onDebug: (m) => debug.push(m) })));
  return { c, debug };
}

test('output comes back byte for byte: no trailing newline, marker look-alikes, a megabyte split over many packets', async () => {
  const { c, debug } = await connect('bytes');
  assert.deepEqual(await c.exec("printf 'no newline'; printf 'err no newline' >&2; exit 7"), {
    rc: 7,
    stdout: 'no newline',
    stderr: 'err no newline',
  });
  assert.deepEqual(await c.exec("printf '\\nPHX-END-0123 0\\n'"), { rc: 0, stdout: '\nPHX-END-0123 0\n', stderr: '' });
  assert.deepEqual(await c.exec('true'), { rc: 0, stdout: '', stderr: '' });
  const big = await c.exec("head -c 1500000 /dev/zero | tr '\\0' x; echo; head -c 300000 /dev/zero | tr '\\0' y >&2");
  assert.equal(big.rc, 0);
  assert.equal(big.stdout, `${'x'.repeat(1_500_000)}\n`);
  assert.equal(big.stderr, 'y'.repeat(300_000));
  assert.ok(
    debug.some((m) => /remote shell 1 started/.test(m)),
    'the commands went through the remote shell',
  );
});

test('stdin arrives intact (any byte, NUL included); more than 1 MiB takes an exec channel and arrives too', async () => {
  const { c } = await connect('stdin');
  const bytes = randomBytes(70_000);
  const r = await c.exec('od -An -v -tx1 | tr -d " \\n"', { stdin: bytes });
  assert.equal(r.stdout, bytes.toString('hex'));
  assert.equal((await c.exec('cat', { stdin: '' })).stdout, '');
  const huge = Buffer.alloc(1024 * 1024 + 10, 'z');
  assert.equal((await c.exec('wc -c', { stdin: huge })).stdout.trim(), String(huge.length));
  // a command without stdin reads nothing: it does not eat the next command
  assert.equal((await c.exec('cat; echo done')).stdout, 'done\n');
});

test('commands do not leak into each other: cwd, variables, umask, traps, exit', async () => {
  const { c } = await connect('isolation');
  await c.exec('cd /tmp; export PHX_LEAK=1; PHX_PLAIN=2; umask 077; trap "echo trapped" EXIT; exit 3');
  const r = await c.exec('pwd; echo "[${PHX_LEAK-}][${PHX_PLAIN-}]"; umask');
  const [pwd, vars, umask] = r.stdout.trim().split('\n');
  assert.equal(pwd, (await c.exec('cd && pwd')).stdout.trim(), 'each command starts in the home directory');
  assert.equal(vars, '[][]');
  assert.notEqual(umask, '0077');
  // a syntax error is the command's failure, not the shell's
  const bad = await c.exec('if then fi');
  assert.notEqual(bad.rc, 0);
  assert.match(bad.stderr, /syntax error/i);
  assert.equal((await c.exec('echo still')).stdout, 'still\n');
});

test('a command that ends the shell under it fails alone; the next command gets a new shell', async () => {
  const { c, debug } = await connect('lost');
  assert.equal((await c.exec('echo one')).rc, 0);
  const r = await c.exec('kill -KILL $$');
  assert.equal(r.rc, 255);
  assert.match(r.stderr, /remote shell ended/);
  assert.equal((await c.exec('echo two')).stdout, 'two\n');
  assert.equal(debug.filter((m) => /remote shell \d started/.test(m)).length, 2);
});

test(
  'parallel commands use at most three shells and extra exec channels, all answered',
  { timeout: 60_000 },
  async () => {
    const { c, debug } = await connect('parallel');
    // bursts one after another: the shells are reused, never leaked (a leaked one would hold a session slot)
    for (let burst = 0; burst < 4; burst++) {
      const rs = await Promise.all(Array.from({ length: 12 }, (_, i) => c.exec(`sleep 0.1; echo ${burst}.${i}`)));
      rs.forEach((r, i) => assert.equal(r.stdout, `${burst}.${i}\n`));
    }
    const started = debug.filter((m) => /remote shell \d started/.test(m)).length;
    assert.ok(started >= 1 && started <= 3, `${started} shells`);
  },
);

test('a host without base64 runs commands with stdin on exec channels', async () => {
  // sshd's SetEnv puts a PATH without coreutils in front of the shell: /bin/sh is found by path, base64 is not
  const { c, debug } = await connect('nobase64', ['SetEnv PATH=/nonexistent']);
  assert.equal((await c.exec('command -v base64 || echo none')).stdout, 'none\n');
  assert.ok(
    debug.some((m) => /no base64/.test(m)),
    debug.join('\n'),
  );
  assert.equal((await c.exec('/bin/cat', { stdin: 'fed\n' })).stdout, 'fed\n');
});

test("an aborted command rejects at once with the caller's reason; the host's next command gets a new shell", async () => {
  const { c, debug } = await connect('abort');
  assert.equal((await c.exec('echo before')).stdout, 'before\n');
  const ac = new AbortController();
  setTimeout(() => ac.abort(new Error('task timed out')), 200);
  const t0 = Date.now();
  await assert.rejects(c.exec('sleep 5', { signal: ac.signal }), /task timed out/);
  assert.ok(Date.now() - t0 < 2000, 'did not wait for the command');
  assert.equal((await c.exec('echo after')).stdout, 'after\n');
  assert.equal(debug.filter((m) => /remote shell \d started/.test(m)).length, 2);
  // a signal that has already fired: nothing is sent
  await assert.rejects(c.exec('echo never', { signal: AbortSignal.abort(new Error('gone already')) }), /gone already/);
});

test("phx-play's own scripts run in the shell's own process, their variables local; other commands in a subshell", async () => {
  const { c, debug } = await connect('own');
  // a child's parent is the shell itself ($$) only when no subshell stands between them
  const parentIsShell = `p=$(sh -c 'echo $PPID'); [ "$p" = $$ ] && echo same || echo other`;
  assert.equal((await c.exec(parentIsShell, { ownScript: true })).stdout, 'same\n');
  assert.equal((await c.exec(parentIsShell)).stdout, 'other\n', 'not marked: a subshell');
  // an own script the reading cannot account for (cd) still gets a subshell
  assert.equal((await c.exec(`cd /; ${parentIsShell}`, { ownScript: true })).stdout, 'other\n');
  // what the own scripts assigned is gone for the commands after them
  await c.exec('export LC_ALL=C; PHX_OWN=1; set -- a b', { ownScript: true });
  assert.deepEqual(await c.exec('echo "[${PHX_OWN-}][${LC_ALL-}][$#]"'), { rc: 0, stdout: '[][][0]\n', stderr: '' });
  // names declared by the script's maker skip the reading, not the check: an `exec` (a CT's lxc-attach
  // wrapper) still gets a subshell, so the shell outlives it
  assert.deepEqual(await c.exec("exec sh -c 'echo wrapped'", { ownScript: true, ownLocals: [] }), {
    rc: 0,
    stdout: 'wrapped\n',
    stderr: '',
  });
  assert.equal((await c.exec(parentIsShell, { ownScript: true })).stdout, 'same\n');
  assert.equal(debug.filter((m) => /remote shell \d+ started/.test(m)).length, 1, 'one shell throughout');
});
