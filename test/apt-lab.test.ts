// apt (and systemd_service) on a lab host over SSH and inside a lab container
// (through the pct connection, ansible_connection: pct): install, second run
// ok, check mode predicts and changes nothing, absent, an unknown package, the cache age as Ansible reads it; inside the
// CT, nginx from apt runs the real /usr/sbin/nginx: `nginx -t` passes on
// Debian's default configuration and fails on a broken one, and so does
// `systemctl reload nginx` (nginx.service's ExecReload parses the config first).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import apt from '../modules/apt.js';
import systemdService from '../modules/systemd_service.js';
import { comparable, useLabHost } from './harness/lab-fixture.js';
import type { Connection } from '../src/connection/types.js';
import { openConnection } from '../src/connection/index.js';
import type { ModuleDefinition, ModuleResult } from '../src/module.js';
import { createModuleContext, runModule } from '../src/module-runner.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';

const fx = useLabHost('phx-apt-lab-', async ({ sh }) => {
  await sh(
    'pct create 101 local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst --hostname web --unprivileged 1 >/dev/null && pct start 101',
  );
});
const { run, sh, exec } = fx;

/** CT 101 through the pct connection (ansible_connection: pct) over the fixture's SSH connection. */
function ctConnection(): Connection {
  return openConnection(
    'ct101',
    { ansible_connection: 'pct', ansible_host: fx.host, pct_vmid: 101 },
    { hostConnection: () => Promise.resolve(fx.conn) },
  );
}

async function inCt(def: ModuleDefinition, raw: unknown, o: { check?: boolean } = {}): Promise<ModuleResult> {
  const conn = ctConnection();
  await conn.connect();
  const ctx = createModuleContext({ host: 'ct101', conn, check: o.check });
  return runModule(def, def.args.parse(raw), ctx);
}

const dpkgStatus = async (where: string, name: string) =>
  (await exec(`${where}dpkg-query -W --showformat='\${db:Status-Status} \${Version}' ${name}`)).stdout;

test('host: check mode predicts the install and changes nothing; install; second run ok; absent twice', async () => {
  const check = await run(apt, { name: 'htop' }, { check: true, diff: true });
  assert.equal(check.changed, true);
  assert.match(String(check.msg), /install htop=3\.2\.2-2/);
  assert.equal(await dpkgStatus('', 'htop'), '', 'nothing installed by check mode');

  const first = await run(apt, { name: ['htop'] });
  assert.equal(first.failed, undefined, String(first.msg));
  assert.equal(first.changed, true);
  assert.match(String(first.stdout), /Setting up htop \(3\.2\.2-2\) \.\.\./);
  assert.doesNotMatch(String(first.stderr), /debconf/, 'DEBIAN_FRONTEND=noninteractive reached apt-get');
  const { stdout: _o, stderr: _e, ...real } = comparable(first);
  assert.deepEqual(comparable(check), real, 'check mode registers what the run does (but apt-get output)');
  assert.equal(await dpkgStatus('', 'htop'), 'installed 3.2.2-2');

  const again = await run(apt, { pkg: 'htop', state: 'present' });
  assert.equal(again.changed, false);

  const gone = await run(apt, { name: 'htop', state: 'absent' });
  assert.equal(gone.changed, true);
  assert.equal(await dpkgStatus('', 'htop'), '', 'htop has no conffiles: nothing left');
  assert.equal((await run(apt, { name: 'htop', state: 'removed' })).changed, false);
});

test('host: an unknown package fails as Ansible does, nothing runs; apt-get itself exits 100', async () => {
  const r = await run(apt, { name: ['curl', 'no-such-package'] });
  assert.equal(r.failed, true);
  assert.equal(r.msg, "No package matching 'no-such-package' is available");
  const direct = await exec('apt-get install -y no-such-package');
  assert.equal(direct.rc, 100);
  assert.match(direct.stderr, /^E: Unable to locate package no-such-package$/m);
  // a value is never an option: refused by the schema before anything runs
  assert.throws(() => apt.args.parse({ name: '--force-yes' }));
  assert.throws(() => apt.args.parse({ name: 'nginx -o' }));
});

test('host: cache_valid_time reads the lists mtime (a day old when seeded); updated once, then ok', async () => {
  const r = await run(apt, { update_cache: true, cache_valid_time: 3600 });
  assert.equal(r.changed, true);
  assert.equal(r.cache_updated, true);
  const mtime = Number((await sh('stat -c %Y /var/lib/apt/lists')).trim());
  assert.equal(r.cache_update_time, mtime);
  const again = await run(apt, { update_cache: true, cache_valid_time: 3600 });
  assert.deepEqual([again.changed, again.cache_updated], [false, false]);
});

test('CT: no nginx on the template; apt needs the cache updated (lists cleaned), then installs Debian nginx', async () => {
  const before = await exec('pct exec 101 -- nginx -t');
  assert.equal(before.rc, 127, 'nginx is not found in a fresh template');
  const noLists = await inCt(apt, { name: 'nginx' });
  assert.equal(noLists.failed, true);
  assert.equal(noLists.msg, "No package matching 'nginx' is available");

  const check = await inCt(apt, { name: 'nginx', update_cache: true }, { check: true });
  assert.deepEqual([check.changed, check.cache_updated], [true, true]);
  assert.equal(await dpkgStatus('pct exec 101 -- ', 'nginx'), '');

  const first = await inCt(apt, { name: 'nginx', update_cache: true });
  assert.equal(first.failed, undefined, String(first.msg));
  assert.deepEqual([first.changed, first.cache_updated], [true, true]);
  assert.equal(await dpkgStatus('pct exec 101 -- ', 'nginx'), 'installed 1.22.1-9+deb12u9');
  assert.equal(await dpkgStatus('pct exec 101 -- ', 'nginx-common'), 'installed 1.22.1-9+deb12u9');
  // Debian's files, owned by the container's root (host uid 100000)
  assert.equal(
    await sh('pct exec 101 -- readlink /etc/nginx/sites-enabled/default'),
    '/etc/nginx/sites-available/default\n',
  );
  assert.match(await sh('pct exec 101 -- stat -c %U /etc/nginx/nginx.conf'), /^root$/m);
  assert.match(await sh('pct exec 101 -- cat /etc/nginx/nginx.conf'), /include \/etc\/nginx\/sites-enabled\/\*;/);

  // Ansible: with packages, the cache update alone is not a change
  const again = await inCt(apt, { name: 'nginx', update_cache: true });
  assert.deepEqual([again.changed, again.cache_updated], [false, true]);

  const started = await inCt(systemdService, { name: 'nginx', state: 'started', enabled: true });
  assert.equal(started.changed, false, 'the postinst enabled and started it');
  assert.equal((started.status as Record<string, string>).ActiveState, 'active');
});

test('CT: nginx -t runs the real binary: the default config passes, a broken one fails, and so does a reload', async () => {
  const ok = await exec('pct exec 101 -- nginx -t');
  assert.equal(ok.rc, 0, ok.stderr);
  assert.match(ok.stderr, /configuration file \/etc\/nginx\/nginx\.conf test is successful/);

  await sh(
    `pct exec 101 -- sh -c 'echo "server { listen 8080; bogus_directive on; }" > /etc/nginx/conf.d/broken.conf'`,
  );
  const bad = await exec('pct exec 101 -- nginx -t');
  assert.equal(bad.rc, 1);
  assert.match(bad.stderr, /unknown directive "bogus_directive" in \/etc\/nginx\/conf\.d\/broken\.conf:1/);

  const reload = await inCt(systemdService, { name: 'nginx', state: 'reloaded' });
  assert.equal(reload.failed, true);
  assert.match(String(reload.msg), /^Unable to reload service nginx: Job for nginx\.service failed/);
  await sh('pct exec 101 -- rm /etc/nginx/conf.d/broken.conf');
  const fixed = await inCt(systemdService, { name: 'nginx', state: 'reloaded' });
  assert.deepEqual([fixed.failed, fixed.changed, fixed.state], [undefined, true, 'started']);
});

test('CT: absent keeps the conffiles (config-files), purge removes them', async () => {
  const r = await inCt(apt, { name: 'nginx-common', state: 'absent' });
  assert.equal(r.changed, true);
  assert.equal(await dpkgStatus('pct exec 101 -- ', 'nginx-common'), 'config-files 1.22.1-9+deb12u9');
  assert.equal(await dpkgStatus('pct exec 101 -- ', 'nginx'), '', 'nginx depends on nginx-common: removed too');
  assert.equal((await exec('pct exec 101 -- test -f /etc/nginx/nginx.conf')).rc, 0);
  assert.equal((await exec('pct exec 101 -- nginx -t')).rc, 127, 'the program is gone with the package');
  const purged = await inCt(apt, { name: 'nginx-common', state: 'absent', purge: true });
  assert.equal(purged.changed, true);
  assert.equal((await exec('pct exec 101 -- test -e /etc/nginx')).rc, 1);
  assert.equal((await inCt(apt, { name: 'nginx-common', state: 'absent', purge: true })).changed, false);
});

test('host: deb installs a .deb built with the real dpkg-deb (control read from the archive), then ok', async () => {
  await sh(
    "mkdir -p /root/hello/DEBIAN /root/hello/usr/share/doc/hello-phx && printf 'Package: hello-phx\\nVersion: 1.0-1\\nArchitecture: all\\nMaintainer: t <t@example.org>\\nDescription: test\\n' > /root/hello/DEBIAN/control && echo hi > /root/hello/usr/share/doc/hello-phx/README && dpkg-deb --build --root-owner-group /root/hello /root/hello-phx_1.0-1_all.deb >/dev/null",
  );
  const check = await run(apt, { deb: '/root/hello-phx_1.0-1_all.deb' }, { check: true });
  assert.deepEqual([check.changed, check.msg], [true, 'install hello-phx 1.0-1 from /root/hello-phx_1.0-1_all.deb']);
  const first = await run(apt, { deb: '/root/hello-phx_1.0-1_all.deb' });
  assert.equal(first.failed, undefined, String(first.msg));
  assert.match(String(first.stdout), /Setting up hello-phx \(1\.0-1\) \.\.\./);
  assert.equal(await dpkgStatus('', 'hello-phx'), 'installed 1.0-1');
  assert.match(await sh('dpkg -L hello-phx'), /^\/usr\/share\/doc\/hello-phx\/README$/m);
  assert.equal((await run(apt, { deb: '/root/hello-phx_1.0-1_all.deb' })).changed, false);
  const notDeb = await run(apt, { deb: '/etc/hostname' });
  assert.equal(notDeb.failed, true);
  assert.match(String(notDeb.msg), /^Unable to install package: /);
});

test('through phx-play: ansible.builtin.apt and service in a play (task environment kept), --check then run then ok', async () => {
  const play = join(fx.dir, 'packages.yml');
  writeFileSync(
    play,
    [
      '- hosts: pve1',
      '  gather_facts: false',
      '  environment: { DEBIAN_FRONTEND: readline }',
      '  tasks:',
      '    - ansible.builtin.apt: { name: [certbot, curl], update_cache: true, cache_valid_time: 86400 }',
      '      register: pkgs',
      '    - service: { name: nfs-kernel-server, state: started }',
      '    - assert: { that: ["pkgs.stderr is not defined or \'debconf\' not in pkgs.stderr"] }',
      '',
    ].join('\n'),
  );
  const cli = (...a: string[]) => runCli(['-i', fx.lab.inventoryFile, ...a, play]);
  const check = await cli('--check');
  assert.equal(check.code, 0, check.stdout + check.stderr);
  assert.match(check.stdout, /pve1 +: ok=\d+ +changed=2 /);
  assert.equal(await dpkgStatus('', 'certbot'), '');
  const first = await cli();
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.match(first.stdout, /pve1 +: ok=\d+ +changed=2 /);
  assert.equal(await dpkgStatus('', 'certbot'), 'installed 2.1.0-4');
  const second = await cli();
  assert.match(second.stdout, /pve1 +: ok=\d+ +changed=0 /);
});
