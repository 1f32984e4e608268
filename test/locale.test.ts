// Every remote command runs with LC_ALL=C (issue 18, item 9): the modules parse
// English messages (coreutils, ZFS, the PVE tools translate theirs), so the
// host's locale must not change what they read. Set once in
// src/connection/command.ts buildCommand; checked over a real sshd, with the
// remote side's environment saying otherwise.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openConnection } from '../src/connection/index.js';
import { buildCommand } from '../src/connection/command.js';
import type { Connection } from '../src/connection/types.js';
import { createSshEnv, type SshTestEnv } from './harness/ssh-env.js';

let env: SshTestEnv;
let conn: Connection;

before(async () => {
  env = await createSshEnv('locale');
  const h = await env.startHost();
  conn = openConnection('localehost', env.hostVars(h), env.options());
});
after(async () => {
  await conn.close();
  await env.cleanup();
});

test('a command, and every command of a script, sees LC_ALL=C', async () => {
  for (const timeoutMs of [undefined, 5000]) {
    const argv = buildCommand(['printenv', 'LC_ALL'], { timeoutMs });
    const a = await conn.exec(argv.command, { stdin: argv.stdin, timeoutMs });
    assert.equal(a.rc, 0, a.stderr);
    assert.equal(a.stdout, 'C\n');
    // the remote login environment says German; the script's commands still see C
    const script = buildCommand(
      { shell: 'LC_ALL=de_DE.UTF-8; sh -c "printenv LC_ALL" ; env | grep ^LC_ALL=' },
      {
        timeoutMs,
      },
    );
    assert.match(script.command, /export LC_ALL=C;/);
    const b = await conn.exec(script.command, { stdin: script.stdin, timeoutMs });
    assert.equal(b.rc, 0, b.stderr);
    // a script may change it for itself on purpose (exported variable, assigned again)
    assert.equal(b.stdout, 'de_DE.UTF-8\nLC_ALL=de_DE.UTF-8\n');
  }
  const inherited = buildCommand({ shell: 'sh -c "printenv LC_ALL"' });
  const c = await conn.exec(inherited.command, { stdin: inherited.stdin });
  assert.equal(c.stdout, 'C\n', 'a child process of the script inherits LC_ALL=C');
});

test("a task's own environment may set another locale", async () => {
  const built = buildCommand(['printenv', 'LC_ALL'], { env: { LC_ALL: 'C.UTF-8' } });
  const r = await conn.exec(built.command, { stdin: built.stdin });
  assert.equal(r.stdout, 'C.UTF-8\n');
});
