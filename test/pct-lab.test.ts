// pct (and file_perm's container_root) against a lab host over SSH: create with
// mounts and start, check mode predicting the first run exactly without touching
// /etc/pve, check-mode carry-forward into file_perm, mount points by path, pending
// changes and restart: if_needed, lock waits, clone + bind mounts, error paths,
// hostile values kept literal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pct from '../modules/pct.js';
import filePerm from '../modules/file_perm.js';
import { comparable, useLabHost } from './harness/lab-fixture.js';
import { Predictions } from '../src/predictions.js';

const TEMPLATE = 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst';

// ---- harness: one lab host, one reused SSH connection
// A fresh lab is seeded; the tests share it (a reset costs seconds) and use their own CT ids and paths.
const fx = useLabHost('phx-pct-lab-');
const { run, sh, commands, exec, setFaults } = fx;
const snapshot = () =>
  sh(
    'cd /etc/pve/nodes/*/lxc && for f in $(ls); do echo "== $f"; cat "$f"; done; echo "== tank"; ls -lnAR /tank; echo "== state"; ls -R /var/lib/phx-lab | grep -v "^$" | sort',
  );

const WEB = {
  ctid: 105,
  state: 'started',
  ostemplate: TEMPLATE,
  hostname: 'web',
  memory: 1024,
  cores: 2,
  net0: { name: 'eth0', bridge: 'vmbr0', ip: 'dhcp' },
  onboot: true,
  mounts: [{ path: '/data', volume: '/tank/data' }],
};

test('fresh host: check predicts create+start exactly (and carries CT 105 forward to file_perm), touches nothing; real run; second run ok', async () => {
  await sh('mkdir -p /tank/data/sub && touch /tank/data/sub/f');
  const before = await snapshot();
  const predicted = new Predictions();
  const chk = await run(pct, WEB, { check: true, diff: true, predicted });
  assert.equal(chk.failed, undefined, String(chk.msg));
  assert.equal(chk.changed, true);
  const perm = {
    path: '/tank/data',
    recurse: true,
    owner: { container_root: 105 },
    group: { container_root: 105 },
    dir_mode: '0770',
    file_mode: '0660',
  };
  const chkPerm = await run(filePerm, perm, { check: true, predicted });
  assert.equal(chkPerm.failed, undefined, `file_perm plans against the predicted CT: ${chkPerm.msg}`);
  assert.equal(chkPerm.uid, 100000);
  assert.equal(await snapshot(), before, 'check mode left /etc/pve and /tank byte-identical');
  const noPrediction = await run(filePerm, perm, { check: true });
  assert.equal(noPrediction.failed, true);
  assert.match(String(noPrediction.msg), /CT 105 does not exist/);

  const real = await run(pct, WEB, { diff: true });
  assert.equal(real.failed, undefined, String(real.msg));
  assert.deepEqual(comparable(real), comparable(chk), 'check predicted the real result');
  assert.equal(
    real.msg,
    "create CT 105 from local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst (unprivileged); wait for CT 105's lock to clear; start CT 105",
  );
  assert.deepEqual(real.container_root, { uid: 100000, gid: 100000 });
  assert.deepEqual(real.mounts, [{ key: 'mp0', path: '/data', volume: '/tank/data' }]);
  assert.equal((await sh('pct status 105')).trim(), 'status: running');
  const conf = await sh('pct config 105');
  assert.match(conf, /^unprivileged: 1$/m);
  assert.match(conf, /^onboot: 1$/m);
  assert.ok(!commands.some((c) => /pct set .*--unprivileged/.test(c)), 'unprivileged only given at create');

  const realPerm = await run(filePerm, perm);
  assert.equal(realPerm.failed, undefined, String(realPerm.msg));
  assert.deepEqual(comparable(realPerm), comparable(chkPerm));
  assert.equal(await sh("stat -c '%u:%g %a' /tank/data /tank/data/sub/f"), '100000:100000 770\n100000:100000 660\n');

  const again = await run(pct, WEB);
  assert.equal(again.changed, false, String(again.msg));
  assert.equal(again.created, false);
  assert.equal((await run(filePerm, perm)).changed, false);
});

test('mounts matched by path: a new one is hot-plugged into the lowest free mpN; changing one stays pending → restart_required, or restarted with if_needed', async () => {
  await sh('mkdir -p /tank/t2a /tank/t2b /tank/t2c /tank/t2a2');
  const base = {
    ctid: 120,
    state: 'started',
    ostemplate: TEMPLATE,
    mounts: [
      { path: '/a', volume: '/tank/t2a' },
      { path: '/c', volume: '/tank/t2c' },
    ],
  };
  assert.equal((await run(pct, base)).failed, undefined);

  const add = await run(pct, {
    ...base,
    mounts: [
      { path: '/c', volume: '/tank/t2c' },
      { path: '/b/', volume: '/tank/t2b', ro: true },
      { path: '/a', volume: '/tank/t2a' },
    ],
  });
  assert.equal(add.failed, undefined, String(add.msg));
  assert.equal(add.msg, 'set CT 120: mp2=/tank/t2b,mp=/b,ro=1');
  assert.equal(add.restart_required, false, 'a new mount point is hot-plugged');
  assert.equal(
    (await run(pct, { ...base, mounts: [{ path: '/b', volume: '/tank/t2b', ro: true }] })).changed,
    false,
    'unlisted mounts are left alone',
  );

  const change = { ...base, mounts: [{ path: '/a', volume: '/tank/t2a2' }] };
  const chk = await run(pct, change, { check: true });
  const r = await run(pct, change);
  assert.equal(r.failed, undefined, String(r.msg));
  assert.deepEqual(comparable(r), comparable(chk));
  assert.equal(r.restart_required, true);
  assert.deepEqual(r.pending, ['mp0']);
  assert.match(await sh('pct pending 120'), /^new mp0: \/tank\/t2a2,mp=\/a$/m);
  const ok = await run(pct, change);
  assert.equal(ok.changed, false, 'pct config already shows the pending value');
  assert.equal(ok.restart_required, true, 'still pending: a handler can restart');

  const restarted = await run(pct, { ...change, restart: 'if_needed' });
  assert.equal(restarted.changed, true);
  assert.equal(restarted.msg, 'shut down CT 120; start CT 120');
  assert.doesNotMatch(await sh('pct pending 120'), /^(new|del) /m);
  assert.equal((await run(pct, { ...change, restart: 'if_needed' })).changed, false);
});

test('waits for lock: create to clear before set/start (createLockSeconds fault)', async () => {
  await setFaults({ createLockSeconds: 2 });
  const t0 = Date.now();
  const r = await run(pct, { ctid: 106, state: 'started', ostemplate: TEMPLATE, hostname: 'locked' });
  assert.equal(r.failed, undefined, String(r.msg));
  assert.ok(Date.now() - t0 >= 2000, 'it waited');
  assert.equal((await sh('pct status 106')).trim(), 'status: running');

  await sh(`pct create 107 ${TEMPLATE} --hostname x`); // locked for 2 s now
  const tooShort = await run(pct, { ctid: 107, cores: 3, lock_timeout: 1 });
  assert.equal(tooShort.failed, true);
  assert.match(String(tooShort.msg), /CT 107 is still locked \(create\) after 1 s/);
  const waits = await run(pct, { ctid: 107, cores: 3, lock_timeout: 20 });
  assert.equal(waits.failed, undefined, String(waits.msg));
  assert.match(await sh('pct config 107'), /^cores: 3$/m);
  await setFaults({});
});

test('clone, then bind mounts added after the clone; clone source with a bind mount refused', async () => {
  await sh(`pct create 900 ${TEMPLATE} --hostname tmpl --cores 1 && mkdir -p /tank/shared`);
  const want = {
    ctid: 110,
    clone_from: 900,
    full: true,
    hostname: 'cloned',
    cores: 2,
    mounts: [{ path: '/shared', volume: '/tank/shared' }],
  };
  const chk = await run(pct, want, { check: true });
  const r = await run(pct, want);
  assert.equal(r.failed, undefined, String(r.msg));
  assert.deepEqual(comparable(r), comparable(chk));
  assert.equal(
    r.msg,
    "clone CT 900 to CT 110; wait for CT 110's lock to clear; set CT 110: cores=2, mp0=/tank/shared,mp=/shared",
  );
  const conf = await sh('pct config 110');
  assert.match(conf, /^hostname: cloned$/m);
  assert.match(conf, /^mp0: \/tank\/shared,mp=\/shared$/m);
  assert.equal((await run(pct, want)).changed, false);

  const bad = await run(pct, { ctid: 111, clone_from: 110 });
  assert.equal(bad.failed, true);
  assert.match(String(bad.msg), /mp0 is a bind\/device mount/);
});

test('error paths: unprivileged mismatch, missing CT, missing template, absent', async () => {
  await sh(`pct create 130 ${TEMPLATE} --unprivileged 0`);
  const mismatch = await run(pct, { ctid: 130, unprivileged: true });
  assert.equal(mismatch.failed, true);
  assert.match(String(mismatch.msg), /privileged, but unprivileged: true is asked; .*re-create/);
  assert.deepEqual((await run(pct, { ctid: 130 })).container_root, { uid: 0, gid: 0 });

  const missing = await run(pct, { ctid: 999, state: 'started' });
  assert.equal(missing.failed, true);
  assert.match(String(missing.msg), /CT 999 does not exist; give ostemplate/);

  const noTemplate = await run(pct, { ctid: 998, ostemplate: 'local:vztmpl/nope.tar.zst' });
  assert.equal(noTemplate.failed, true);
  assert.match(String(noTemplate.msg), /does not exist/);

  const noSource = await run(pct, {
    ctid: 131,
    state: 'started',
    ostemplate: TEMPLATE,
    mounts: [{ path: '/x', volume: '/tank/not-there' }],
  });
  assert.equal(noSource.failed, true);
  assert.match(
    String(noSource.msg),
    /bind mount source \/tank\/not-there does not exist on the host: CT 131 could not start .*nothing was changed/,
  );
  assert.equal((await exec('test -e /etc/pve/lxc/131.conf')).rc, 1, 'not even created');

  const gone = await run(pct, { ctid: 130, state: 'absent' });
  assert.equal(gone.failed, undefined, String(gone.msg));
  assert.equal(gone.changed, true);
  assert.equal((await exec('pct status 130')).rc === 0, false);
  assert.equal((await run(pct, { ctid: 130, state: 'absent' })).changed, false);
});

test('hostile values stay literal: description with quotes, $(...), newline', async () => {
  const desc = 'it\'s "$(touch /tmp/pwned)" `id`; a:b 100%\nsecond line';
  const r = await run(pct, { ctid: 140, ostemplate: TEMPLATE, description: desc, hostname: 'hostile' });
  assert.equal(r.failed, undefined, String(r.msg));
  assert.equal((await exec('test -e /tmp/pwned')).rc, 1);
  assert.match(
    await sh('pct config 140'),
    /^description: it's "\$\(touch \/tmp\/pwned\)" `id`; a%3Ab 100%25%0Asecond line$/m,
  );
  assert.equal((await run(pct, { ctid: 140, description: desc })).changed, false, 'decoded description compares equal');
  const changed = await run(pct, { ctid: 140, description: 'plain' }, { diff: true });
  assert.equal(changed.changed, true);
  assert.ok(changed.diff);
});

test('a storage:<GiB> mount allocates a volume once; the allocated volume matches it on the next run', async () => {
  const want = { ctid: 141, ostemplate: TEMPLATE, mounts: [{ path: '/vol', volume: 'local:1', backup: true }] };
  const r = await run(pct, want);
  assert.equal(r.failed, undefined, String(r.msg));
  assert.match(await sh('pct config 141'), /^mp0: local:[^,]+,mp=\/vol,backup=1,size=1G$/m);
  assert.equal((await run(pct, want)).changed, false);
});
