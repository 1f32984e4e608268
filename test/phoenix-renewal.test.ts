// playbooks/renewal-timer.yml on the controller, in --check --diff (it would install
// systemd units on the machine running the test): the service runs the certs play
// with --json, the timer starts it daily; a value that would add a line to a unit
// file is refused before anything is written.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, runCli } from './helpers/cli.js';

const unitDir = mkdtempSync(join(tmpdir(), 'phx-renewal-'));
after(() => rmSync(unitDir, { recursive: true, force: true }));
const timerPlay = join(repoRoot, 'playbooks/renewal-timer.yml');
const run = (...extra: string[]) =>
  runCli(
    [
      '-i',
      join(repoRoot, 'inventory/example.yml'),
      '--check',
      '--diff',
      '-e',
      `phoenix_renewal_unit_dir=${unitDir}`,
      ...extra,
      timerPlay,
    ],
    { cwd: repoRoot },
  );

test('renewal timer: a daily timer and a service running the certs play with --json (check mode writes nothing)', async () => {
  const r = await run('-e', 'phoenix_renewal_inventory=/etc/phoenix/hosts.yml');
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.ok(
    r.stdout.includes(
      `+ExecStart=/usr/bin/node ${repoRoot}/bin/phx-play.js -i /etc/phoenix/hosts.yml --json ${repoRoot}/playbooks/certs.yml\n`,
    ),
    r.stdout,
  );
  assert.match(r.stdout, /^\+Type=oneshot$/m);
  assert.match(r.stdout, /^\+OnCalendar=daily$/m);
  assert.match(r.stdout, /^\+Persistent=true$/m);
  assert.match(r.stdout, /^\+WantedBy=timers\.target$/m);
  assert.match(r.stdout, /TASK \[The timer enabled and started\][^\n]*\nchanged: \[localhost\]/);
  assert.deepEqual(readdirSync(unitDir), []);
});

test('renewal timer: no inventory path, or one that would add a line to the unit, is refused', async () => {
  const missing = await run();
  assert.equal(missing.code, 2);
  assert.match(missing.stdout, /set phoenix_renewal_inventory to the absolute path of your inventory/);
  const hostile = await run('-e', '{"phoenix_renewal_inventory": "/etc/h.yml\\nExecStartPre=/bin/sh -c id"}');
  assert.equal(hostile.code, 2);
  assert.doesNotMatch(hostile.stdout, /ExecStartPre/);
  assert.ok(!existsSync(join(unitDir, 'phoenix-certs.service')));
});
