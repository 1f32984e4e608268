// file_perm against a lab host over SSH: container_root from the CT's real
// config (default unprivileged, privileged, custom lxc.idmap), the seed's
// dir/file modes over a tree with hostile names, exact check mode, diff,
// second run ok, missing CT / path errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import filePerm from '../modules/file_perm.js';
import { comparable, useLabHost } from './harness/lab-fixture.js';

// ---- harness: one lab host, one reused SSH connection
const TEMPLATE = 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst';
const fx = useLabHost('phx-file-perm-lab-', async ({ sh }) => {
  // CT 105 unprivileged (default map), 106 privileged, 107 with a custom idmap (edited in the file, as PVE users do)
  await sh(
    `pct create 105 ${TEMPLATE} --unprivileged 1 >/dev/null && pct create 106 ${TEMPLATE} --unprivileged 0 >/dev/null && pct create 107 ${TEMPLATE} --unprivileged 1 >/dev/null && ` +
      `printf 'lxc.idmap: u 0 200000 1005\\nlxc.idmap: g 0 300000 1005\\nlxc.idmap: u 1005 1005 1\\nlxc.idmap: g 1005 1005 1\\nlxc.idmap: u 1006 201006 64530\\nlxc.idmap: g 1006 301006 64530\\n' >> /etc/pve/lxc/107.conf`,
  );
});
const { run, sh, commands, exec } = fx;
const tree = (p: string) => sh(`find '${p}' -printf '%y %U:%G %m %p\\n' | sort`);

test("portainer_data owned by CT 105's root, 770/660, over hostile names: check exact and untouched, real run, second run ok", async () => {
  await sh(
    `mkdir -p '/tank/shared/portainer_data/sub dir/-x' && cd /tank/shared/portainer_data && touch a "sub dir/\\$(touch pwned)" "sub dir/it's" "sub dir/-x/-rf" && chmod 600 a && chmod 700 'sub dir'`,
  );
  const want = {
    path: '/tank/shared/portainer_data',
    state: 'directory',
    recurse: true,
    owner: { container_root: 105 },
    group: { container_root: 105 },
    dir_mode: '0770',
    file_mode: '0660',
  };
  const before = await tree('/tank/shared');
  const n = commands.length;
  const chk = await run(filePerm, want, { check: true, diff: true });
  assert.equal(chk.failed, undefined, String(chk.msg));
  assert.equal(commands.length - n, 1, 'one round trip for the tree and the CT config');
  assert.equal(await tree('/tank/shared'), before, 'check mode changed nothing');
  assert.equal(chk.changed_entries, 7);

  const real = await run(filePerm, want, { diff: true });
  assert.equal(real.failed, undefined, String(real.msg));
  assert.deepEqual(comparable(real), comparable(chk));
  assert.deepEqual(real.diff, chk.diff);
  const after = await tree('/tank/shared/portainer_data');
  for (const line of after.trim().split('\n')) assert.match(line, /^(d 100000:100000 770|f 100000:100000 660) /, line);
  assert.equal((await exec('test -e /tank/shared/portainer_data/pwned || test -e pwned')).rc, 1);
  assert.equal((await run(filePerm, want)).changed, false);
});

test('container_root: privileged CT → 0:0, custom lxc.idmap → its ct-start 0 entry; missing CT and missing path fail clearly', async () => {
  await sh('mkdir -p /tank/v && chown 5:5 /tank/v');
  const priv = await run(filePerm, { path: '/tank/v', owner: { container_root: 106 }, group: { container_root: 106 } });
  assert.equal(priv.failed, undefined, String(priv.msg));
  assert.equal(await sh("stat -c '%u:%g' /tank/v"), '0:0\n');
  const custom = await run(filePerm, {
    path: '/tank/v',
    owner: { container_root: 107 },
    group: { container_root: 107 },
  });
  assert.equal(custom.failed, undefined, String(custom.msg));
  assert.equal(await sh("stat -c '%u:%g' /tank/v"), '200000:300000\n');

  const missing = await run(filePerm, { path: '/tank/v', owner: { container_root: 999 } });
  assert.equal(missing.failed, true);
  assert.match(String(missing.msg), /container_root: CT 999 does not exist/);
  const nopath = await run(filePerm, { path: '/tank/nope', mode: '0755' });
  assert.equal(nopath.failed, true);
  assert.equal(nopath.msg, '/tank/nope does not exist');
  const names = await run(filePerm, { path: '/tank/v', owner: 'nosuchuser' });
  assert.match(String(names.msg), /user "nosuchuser" does not exist on the host/);
});

// The setuid/setgid bits of a directory: GNU chmod(1) keeps them for a numeric
// mode of fewer than 5 digits (coreutils src/chmod.c, process_file → mode_adjust
// with the directory's S_ISUID|S_ISGID kept unless named; doc "SETUID AND
// SETGID BITS"), chmod(2) does not. file_perm changes modes through
// src/remote/no-follow.ts (perl chmod(2) on /proc/self/fd/N), so the wanted
// bits are exactly what the directory gets: one run converges, the next is ok.
test('a 2755 directory wanted 0755 and a 0755 directory wanted 2775 converge in one run; the second run is ok', async () => {
  await sh(
    'mkdir -p /tank/sg/a /tank/sg/b /tank/sg/c && chmod 2755 /tank/sg/a && chmod 0755 /tank/sg/b && chmod 6755 /tank/sg/c',
  );
  for (const [path, mode, want] of [
    ['/tank/sg/a', '0755', '755'],
    ['/tank/sg/b', '2775', '2775'],
    ['/tank/sg/c', '0750', '750'],
  ]) {
    const first = await run(filePerm, { path, mode });
    assert.equal(first.failed, undefined, String(first.msg));
    assert.equal(first.changed, true);
    assert.equal(await sh(`stat -c %a ${path}`), `${want}\n`, path);
    const second = await run(filePerm, { path, mode });
    assert.equal(second.failed, undefined, String(second.msg));
    assert.equal(second.changed, false, `${path}: second run ${String(second.msg)}`);
  }
});
