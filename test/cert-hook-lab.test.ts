// cert_hook against a lab host over SSH: nginx's key inside CT 101 made
// root:www-data 0640 and nginx reloaded once per certificate (exact check mode,
// second run ok, renewal runs it again); portainer's hook through qm guest exec
// failing behind qm's exit 0 (fingerprint not recorded, retried next run);
// pveproxy certificates through pvenode; the key appearing late / never; a
// stopped CT.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import certHook from '../modules/cert_hook.js';
import pct from '../modules/pct.js';
import { comparable, useLabHost } from './harness/lab-fixture.js';
import { Predictions } from '../src/predictions.js';

// ---- harness: one lab host, one reused SSH connection
const fx = useLabHost('phx-cert-hook-lab-', async ({ sh }) => {
  await sh(
    'pct create 101 local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst --hostname nginx --unprivileged 1 >/dev/null && pct start 101',
  );
  // the template has no nginx (as Proxmox's debian-12-standard): installed as a playbook would, with its
  // lists updated first; Debian ships no /etc/nginx/ssl
  await sh(
    "pct exec 101 -- sh -c 'apt-get update -q && apt-get install -y -q nginx && mkdir -p /etc/nginx/ssl' >/dev/null",
  );
});
const { run, sh, exec } = fx;

/** A new certificate + key (0600 root:root) pushed into CT 101; returns the fingerprint. */
async function newCertInCt(name = 'nginx.internal'): Promise<string> {
  const out = await sh(
    `cd /root && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout n.key -out n.crt -days 30 -subj /CN=${name} 2>/dev/null && ` +
      `pct push 101 n.crt /etc/nginx/ssl/${name}.crt && pct push 101 n.key /etc/nginx/ssl/${name}.key --perms 0600 && openssl x509 -noout -fingerprint -sha256 -in n.crt`,
  );
  return out.trim().split('=')[1];
}
const hookLog = () => exec('pct exec 101 -- cat /root/hook.log').then((r) => r.stdout);

const NGINX = {
  name: 'nginx.internal',
  ctid: 101,
  cert: '/etc/nginx/ssl/nginx.internal.crt',
  key: '/etc/nginx/ssl/nginx.internal.key',
  key_owner: 'root',
  key_group: 'www-data',
  key_mode: '0640',
  post_renewal: [
    ['pct', 'exec', '101', '--', 'systemctl', 'reload', 'nginx'],
    ['pct', 'exec', '101', '--', 'sh', '-c', 'echo reloaded >> /root/hook.log'],
  ],
};

test('nginx in CT 101: check predicts exactly and writes nothing; first run fixes the key and runs the hook once; second run ok; renewal runs it again', async () => {
  const fp = await newCertInCt();
  const chk = await run(certHook, NGINX, { check: true, diff: true });
  assert.equal(chk.failed, undefined, String(chk.msg));
  assert.equal(chk.changed, true);
  assert.equal(
    (await exec('test -e /var/lib/phx-play/cert_hook/nginx.internal.json')).rc,
    1,
    'no state written in check mode',
  );
  assert.equal(await sh('pct exec 101 -- stat -c "%U:%G %a" /etc/nginx/ssl/nginx.internal.key'), 'root:root 600\n');
  assert.equal(await hookLog(), '');

  const real = await run(certHook, NGINX, { diff: true });
  assert.equal(real.failed, undefined, String(real.msg));
  assert.deepEqual(comparable(real), comparable(chk));
  assert.deepEqual(real.diff, chk.diff);
  assert.equal(real.fingerprint, fp);
  assert.equal(real.reason, 'first-run');
  assert.equal(await sh('pct exec 101 -- stat -c "%U:%G %a" /etc/nginx/ssl/nginx.internal.key'), 'root:www-data 640\n');
  assert.equal(await hookLog(), 'reloaded\n');
  assert.equal(
    (JSON.parse(await sh('cat /var/lib/phx-play/cert_hook/nginx.internal.json')) as { fingerprint: string })
      .fingerprint,
    fp,
  );

  const again = await run(certHook, NGINX);
  assert.equal(again.changed, false, String(again.msg));
  assert.equal(await hookLog(), 'reloaded\n');

  // the seed's bug: something resets the key to 0600; the hook fixes it and reloads nginx again
  await sh('pct exec 101 -- chmod 600 /etc/nginx/ssl/nginx.internal.key');
  const fixed = await run(certHook, NGINX);
  assert.equal(fixed.reason, 'permissions');
  assert.equal(await hookLog(), 'reloaded\nreloaded\n');

  const fp2 = await newCertInCt();
  const renewed = await run(certHook, NGINX);
  assert.equal(renewed.failed, undefined, String(renewed.msg));
  assert.equal(renewed.renewed, true);
  assert.equal(renewed.previous_fingerprint, fp);
  assert.equal(renewed.fingerprint, fp2);
  assert.equal(await hookLog(), 'reloaded\nreloaded\nreloaded\n');
});

test("portainer hook via qm guest exec: a guest failure behind qm's exit 0 fails the task, the fingerprint is not recorded, the next run retries", async () => {
  await sh(
    'cd /root && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout p.key -out p.crt -days 30 -subj /CN=portainer 2>/dev/null',
  );
  const want = {
    name: 'portainer',
    cert: '/root/p.crt',
    post_renewal: [['qm', 'guest', 'exec', '1001', '--', 'docker', 'restart', 'portainer_server']],
  };
  const r = await run(certHook, want);
  assert.equal(r.failed, true);
  assert.match(
    String(r.msg),
    /post_renewal command 1 of 1 failed \(rc 1\): qm guest exec 1001 -- docker restart portainer_server: Error response from daemon: No such container: portainer_server/,
  );
  assert.equal((await exec('test -e /var/lib/phx-play/cert_hook/portainer.json')).rc, 1);

  await sh('qm guest exec 1001 -- docker run -d --name portainer_server alpine sleep 600 | grep -q \'"exitcode" : 0\'');
  const ok = await run(certHook, want);
  assert.equal(ok.failed, undefined, String(ok.msg));
  assert.equal(ok.changed, true);
  assert.equal((await run(certHook, want)).changed, false);
});

test('pveproxy certificate read through pvenode cert info', async () => {
  const fp = (await sh('openssl x509 -noout -fingerprint -sha256 -in /etc/pve/local/pve-ssl.pem')).trim().split('=')[1];
  const want = {
    name: 'pve-ssl',
    cert: '/etc/pve/local/pve-ssl.pem',
    key: '/etc/pve/local/pve-ssl.key',
    key_mode: '0640',
    post_renewal: [['systemctl', 'reload-or-restart', 'pveproxy']],
  };
  const r = await run(certHook, want);
  assert.equal(r.failed, undefined, String(r.msg));
  assert.equal(r.fingerprint, fp);
  assert.equal((await run(certHook, want)).changed, false);
});

// pve-manager PVE/API2/Certificates.pm `info` lists only the node's own /etc/pve/nodes/<node>/ files, by base
// name (pve-common PVE/Certificate.pm get_certificate_info); the node is /etc/pve/local's target
test("several nodes' directories in /etc/pve: the certificate of the node the task runs on", async () => {
  const node = (await sh('basename "$(readlink /etc/pve/local)"')).trim();
  const own = (await sh('openssl x509 -noout -fingerprint -sha256 -in /etc/pve/local/pve-ssl.pem'))
    .trim()
    .split('=')[1];
  // another cluster node's certificate of the same name (pmxcfs shows every node's directory)
  const other = (
    await sh(
      'mkdir -p /etc/pve/nodes/pve-other && cd /etc/pve/nodes/pve-other && ' +
        'openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout pve-ssl.key -out pve-ssl.pem -days 30 -subj /CN=pve-other 2>/dev/null && ' +
        'openssl x509 -noout -fingerprint -sha256 -in pve-ssl.pem',
    )
  )
    .trim()
    .split('=')[1];
  assert.notEqual(own, other);
  for (const cert of ['/etc/pve/local/pve-ssl.pem', `/etc/pve/nodes/${node}/pve-ssl.pem`]) {
    const r = await run(certHook, { name: `own-${cert.length}`, cert });
    assert.equal(r.failed, undefined, String(r.msg));
    assert.equal(r.fingerprint, own, cert);
  }
  // another node's file is not this node's certificate of the same name: said, not mistaken for it
  const wrong = await run(certHook, { name: 'other', cert: '/etc/pve/nodes/pve-other/pve-ssl.pem' });
  assert.equal(wrong.failed, true);
  assert.match(
    String(wrong.msg),
    new RegExp(`is node pve-other's certificate, but this host is node ${node}: use /etc/pve/local/pve-ssl\\.pem`),
  );
  // read as a plain file on request
  const asFile = await run(certHook, {
    name: 'other',
    cert: '/etc/pve/nodes/pve-other/pve-ssl.pem',
    fingerprint_source: 'openssl',
  });
  assert.equal(asFile.fingerprint, other);
});

test("check mode on a fresh CT: the pct task's prediction carries forward, the missing certificate is assumed", async () => {
  const predicted = new Predictions();
  const ct = await run(
    pct,
    { ctid: 102, state: 'started', ostemplate: 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst' },
    { check: true, predicted },
  );
  assert.equal(ct.failed, undefined, String(ct.msg));
  const r = await run(
    certHook,
    {
      ...NGINX,
      name: 'fresh',
      ctid: 102,
      post_renewal: [['pct', 'exec', '102', '--', 'systemctl', 'reload', 'nginx']],
    },
    { check: true, predicted },
  );
  assert.equal(r.failed, undefined, String(r.msg));
  assert.equal(r.changed, true);
  assert.match(String(r.msg), /check mode: CT 102 not there yet/);
  const without = await run(certHook, { ...NGINX, name: 'fresh', ctid: 102 }, { check: true });
  assert.equal(without.failed, true);
  assert.match(String(without.msg), /CT 102 does not exist/);
});

test('wait_for_key: a key appearing later is waited for; one that never appears fails within wait_timeout; a stopped CT fails clearly', async () => {
  await newCertInCt('late');
  await sh('pct exec 101 -- rm -f /etc/nginx/ssl/late.key');
  await sh("nohup sh -c 'sleep 2; cd /root && pct push 101 n.key /etc/nginx/ssl/late.key' >/dev/null 2>&1 &");
  const late = {
    ...NGINX,
    name: 'late',
    cert: '/etc/nginx/ssl/late.crt',
    key: '/etc/nginx/ssl/late.key',
    wait_for_key: true,
    wait_timeout: 20,
    post_renewal: [],
  };
  const t0 = Date.now();
  const r = await run(certHook, late);
  assert.equal(r.failed, undefined, String(r.msg));
  assert.ok(Date.now() - t0 >= 1000, 'it waited');
  assert.equal(await sh('pct exec 101 -- stat -c "%U:%G %a" /etc/nginx/ssl/late.key'), 'root:www-data 640\n');

  const t1 = Date.now();
  const never = await run(certHook, { ...late, name: 'never', key: '/etc/nginx/ssl/never.key', wait_timeout: 2 });
  assert.equal(never.failed, true);
  assert.match(String(never.msg), /key \/etc\/nginx\/ssl\/never.key in CT 101 did not appear within 2 s/);
  assert.ok(Date.now() - t1 < 8000, 'bounded');

  await sh('pct stop 101');
  const stopped = await run(certHook, NGINX);
  assert.equal(stopped.failed, true);
  assert.match(String(stopped.msg), /CT 101 is not running/);
});
