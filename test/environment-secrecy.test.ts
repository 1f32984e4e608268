// `environment:` values never appear in a remote process's argv (issue 11,
// item 3): `ps` shows every command line to every user of the host. The values
// travel on the command's stdin (src/connection/command.ts buildCommand) and
// the command still gets its own stdin after them. Run over a real sshd, both
// in the long-lived remote shell and on exec channels, and with a task timeout.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openConnection } from '../src/connection/index.js';
import { buildCommand } from '../src/connection/command.js';
import type { Connection } from '../src/connection/types.js';
import { createSshEnv, type SshTestEnv } from './harness/ssh-env.js';

const SECRET = "s3cr3t-canary 'quoted' $(nope) \\ ✓";
let env: SshTestEnv;
let conn: Connection;

before(async () => {
  env = await createSshEnv('env-secrecy');
  const h = await env.startHost();
  conn = openConnection('envhost', env.hostVars(h), env.options());
});
after(async () => {
  await conn.close();
  await env.cleanup();
});

test('the command line holds no environment value', () => {
  const built = buildCommand(['printenv', 'DBPW'], { env: { DBPW: SECRET }, timeoutMs: 5000 });
  assert.ok(!built.command.includes('s3cr3t'), built.command);
  assert.ok(!built.command.includes('DBPW='), built.command);
});

test('a command sees its environment and its own stdin, and no process on the host shows the value', async () => {
  // the command lists every process's argv while it runs: its own sh, timeout, the remote shell
  const script =
    'printf "%s|" "$DBPW"; cat; echo; for f in /proc/[0-9]*/cmdline; do tr "\\0" " " < "$f" 2>/dev/null; echo; done';
  for (const timeoutMs of [undefined, 5000]) {
    const built = buildCommand({ shell: script }, { env: { DBPW: SECRET }, stdin: 'own stdin\n', timeoutMs });
    const r = await conn.exec(built.command, { stdin: built.stdin, timeoutMs });
    assert.equal(r.rc, 0, r.stderr);
    const [head, ...processes] = r.stdout.split('\n');
    assert.equal(head, `${SECRET}|own stdin`);
    assert.ok(processes.length > 3, 'the process list was read');
    assert.ok(!processes.some((p) => p.includes('s3cr3t')), 'a process argv shows the secret');
  }
});

test('a NUL in a value or a bad name is refused before anything runs', () => {
  assert.throws(() => buildCommand(['true'], { env: { A: 'x\0y' } }), /NUL/);
  assert.throws(() => buildCommand(['true'], { env: { 'A B': 'x' } }), /invalid environment variable name/);
});
