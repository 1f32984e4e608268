// user and group for real on a lab host over SSH: useradd/usermod/userdel and
// groupadd/groupmod/groupdel change /etc/passwd, /etc/group and /etc/shadow,
// which on a lab host are the upper layer of an overlay over /etc (docs/LAB.md),
// never this machine's. The test refuses to run when /etc is not an overlay
// there. Homes go under /srv (bound per host). Each task: check mode first
// (nothing changes), the run, a second run (ok).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import group from '../modules/group.js';
import user from '../modules/user.js';
import type { ModuleDefinition, ModuleResult } from '../src/module.js';
import { comparable, useLabHost } from './harness/lab-fixture.js';

const fx = useLabHost('phx-user-lab-');
const { run, sh, exec } = fx;

/** Only where /etc is the lab host's own overlay (then /srv/home is made for the homes). */
async function etcIsOverlay(): Promise<boolean> {
  const fsType = await sh(`awk '$2 == "/etc" { t = $3 } END { print t }' /proc/self/mounts`);
  if (fsType.trim() !== 'overlay') return false;
  await sh('mkdir -p /srv/home');
  return true;
}

const accountFiles = () => sh('cat /etc/passwd /etc/group /etc/shadow /etc/gshadow; ls -la /srv/home');

async function converge(def: ModuleDefinition, args: Record<string, unknown>): Promise<ModuleResult> {
  const before = await accountFiles();
  const check = await run(def, args, { check: true });
  assert.equal(check.failed, undefined, String(check.msg));
  assert.equal(await accountFiles(), before, 'check mode changed nothing');
  const real = await run(def, args);
  assert.equal(real.failed, undefined, String(real.msg));
  assert.equal(real.changed, check.changed, 'check mode predicts the change');
  const again = await run(def, args);
  assert.equal(again.failed, undefined, String(again.msg));
  assert.equal(again.changed, false, 'second run is ok');
  // the account as registered by the run is the account the second run reads
  const account = (r: ModuleResult) =>
    Object.fromEntries(['name', 'state', 'uid', 'gid', 'group', 'comment', 'home', 'shell'].map((k) => [k, r[k]]));
  assert.deepEqual(account(again), account(real));
  return real;
}

describe('user and group on a lab host', () => {
  it('group: created with a gid, gid changed, removed', async (t) => {
    if (!(await etcIsOverlay()))
      return t.skip('/etc is not an overlay on the lab host: not touching the machine’s accounts');
    const made = await converge(group, { name: 'phxops', gid: 4321 });
    assert.equal(made.changed, true);
    assert.match(await sh('getent group phxops'), /^phxops:x:4321:$/m);
    await converge(group, { name: 'phxops', gid: 4322 });
    assert.match(await sh('getent group phxops'), /^phxops:x:4322:$/m);
    const auto = await converge(group, { name: 'phxauto', system: true });
    assert.equal(typeof auto.gid, 'number');
    assert.match(await sh('getent group phxauto'), new RegExp(`^phxauto:x:${String(auto.gid)}:`, 'm'));
  });

  it('user: created with groups, home and a password hash (never on a command line); modified; removed', async (t) => {
    if (!(await etcIsOverlay()))
      return t.skip('/etc is not an overlay on the lab host: not touching the machine’s accounts');
    const hash = '$6$phxsalt$0123456789abcdefghijklmnopqrstuvwxyzABCDEFG';
    fx.commands.length = 0;
    const made = await converge(user, {
      name: 'phxuser',
      uid: 4500,
      groups: ['phxops'],
      home: '/srv/home/phxuser',
      shell: '/bin/sh',
      comment: 'phx test',
      password: hash,
    });
    assert.equal(made.password, 'NOT_LOGGING_PASSWORD');
    assert.equal(made.uid, 4500);
    assert.ok(
      fx.commands.every((c) => !c.includes(hash)),
      'the hash is on no command line',
    );
    assert.match(await sh('getent passwd phxuser'), /^phxuser:x:4500:\d+:phx test:\/srv\/home\/phxuser:\/bin\/sh$/m);
    assert.equal((await sh('getent shadow phxuser')).split(':')[1], hash);
    assert.match(await sh('id -nG phxuser'), /\bphxops\b/);
    assert.equal((await sh('stat -c %U /srv/home/phxuser')).trim(), 'phxuser');

    await converge(user, { name: 'phxuser', shell: '/bin/bash', groups: [] });
    assert.match(await sh('getent passwd phxuser'), /:\/bin\/bash$/m);
    assert.doesNotMatch(await sh('id -nG phxuser'), /\bphxops\b/);
    await converge(user, { name: 'phxuser', groups: 'phxops', append: true });
    assert.match(await sh('id -nG phxuser'), /\bphxops\b/);

    const missing = await run(user, { name: 'phxuser', group: 'no-such-group' });
    assert.equal(missing.failed, true);
    assert.equal(missing.msg, 'Group no-such-group does not exist');

    const gone = await converge(user, { name: 'phxuser', state: 'absent', remove: true });
    const { msg: _m, ...goneFields } = comparable(gone);
    assert.deepEqual(goneFields, { changed: true, name: 'phxuser', state: 'absent', force: false, remove: true });
    assert.equal((await exec('getent passwd phxuser')).rc, 2);
    assert.equal((await exec('test -e /srv/home/phxuser')).rc, 1);
    await converge(group, { name: 'phxops', state: 'absent' });
    assert.equal((await exec('getent group phxops')).rc, 2);
  });
});
