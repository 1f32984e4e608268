// The gateway half of the seeds (portainer-implementation-plan 1.2, 1.3, 3.2; certificate RCA) on a fresh
// lab host whose CT template has no nginx: site.yml installs nginx in the gateway CT through the pct
// connection (group phoenix_gateway), writes Portainer's vhost (upstream VM:9443, server on 443 with the
// certificate certs.yml keeps), `nginx -t` (the real binary) passes on it, the firewall file of the CT
// holds the rule CT → VM tcp/9443; the second run is changed=0 everywhere; --check on the fresh host skips
// the CT's tasks with the reason (the CT would be created by then); -t gateway runs only the gateway plays;
// a hostile hostname is refused before anything is written into nginx's configuration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { usePhoenixLab, type PhoenixRun } from './harness/phoenix-lab.js';
import { repoRoot } from './helpers/cli.js';

const phoenix = usePhoenixLab('phx-phoenix-gateway-', 1);
const SITE = join(repoRoot, 'playbooks/site.yml');
const GW = 'pve1-gateway';

const recap = (r: PhoenixRun) =>
  r.events.find((e) => e.type === 'recap')?.hosts as Record<string, Record<string, number>>;
const explain = (r: PhoenixRun) => `rc ${r.rc}\n${r.stderr.slice(-4000)}`;
async function sh(command: string): Promise<string> {
  const r = await phoenix.lab.exec('pve1', command);
  assert.equal(r.rc, 0, `${command}\n${r.stderr}${r.stdout}`);
  return r.stdout;
}
const results = (r: PhoenixRun, host: string) => r.events.filter((e) => e.type === 'host_result' && e.host === host);

test('fresh host: nginx installed by the playbook in the gateway CT, vhost valid for the real nginx, firewall rule; rerun ok', async () => {
  // a fresh template: no nginx in it (lab/sim/pct.ts), so only the playbook can have installed it
  const check = await phoenix.phxPlay('--check', SITE);
  assert.equal(check.rc, 0, explain(check));
  // the assert runs on the controller; every task that would look into the CT is skipped, with the reason
  const skipped = results(check, GW).filter((e) => e.task !== "The gateway's names and address are plain");
  assert.ok(skipped.length > 0);
  for (const e of skipped) {
    assert.equal(e.status, 'skipped', JSON.stringify(e));
    assert.match(String((e.result as Record<string, unknown>).msg), /CT 101 would be created or started on pve1/);
  }

  const first = await phoenix.phxPlay(SITE);
  assert.equal(first.rc, 0, explain(first));
  assert.equal(recap(first)[GW].failed, 0);
  assert.ok(recap(first)[GW].changed > 0);

  assert.match(await sh("pct exec 101 -- dpkg-query -W --showformat='${db:Status-Status}' nginx"), /^installed$/);
  const vhost = await sh('pct exec 101 -- cat /etc/nginx/sites-available/portainer');
  assert.match(vhost, /upstream portainer_service \{\n\s+server 127\.0\.0\.1:9443;\n\}/);
  assert.match(vhost, /listen 443 ssl;/);
  assert.match(vhost, /server_name portainer\.internal\.thinkheads\.ai;/);
  assert.match(vhost, /ssl_certificate \/etc\/nginx\/ssl\/nginx\.internal\.thinkheads\.ai\.crt;/);
  assert.match(vhost, /proxy_pass https:\/\/portainer_service;/);
  assert.equal(
    (await sh('pct exec 101 -- readlink /etc/nginx/sites-enabled/portainer')).trim(),
    '/etc/nginx/sites-available/portainer',
  );
  // the real nginx binary reads the whole configuration, certificate and key included
  const t = await phoenix.lab.exec('pve1', 'pct exec 101 -- nginx -t');
  assert.equal(t.rc, 0, t.stderr);
  assert.match(t.stderr, /test is successful/);
  // the key stays readable by the www-data worker (certificate RCA)
  assert.match(
    await sh('pct exec 101 -- stat -c %U:%G:%a /etc/nginx/ssl/nginx.internal.thinkheads.ai.key'),
    /^root:www-data:640\n$/,
  );
  assert.match(
    await sh('cat /etc/pve/firewall/101.fw'),
    /^OUT ACCEPT -dest 127\.0\.0\.1 -p tcp -dport 9443 # gateway to Portainer \(VM 1001\)$/m,
  );

  const again = await phoenix.phxPlay(SITE);
  assert.equal(again.rc, 0, explain(again));
  for (const [h, c] of Object.entries(recap(again))) assert.equal(c.changed, 0, `${h}: second run changed`);
});

test('-t gateway runs the gateway plays only (and the preflight, tag always)', async () => {
  const r = await phoenix.phxPlay('-t', 'gateway', SITE);
  assert.equal(r.rc, 0, explain(r));
  const plays = r.events.filter((e) => e.type === 'play_start').map((e) => e.play);
  const ran = new Set(r.events.filter((e) => e.type === 'host_result').map((e) => e.task as string));
  assert.ok(ran.has("Portainer's vhost"), [...ran].join('\n'));
  for (const other of [
    'ZFS datasets',
    'Proxmox storage definitions (stale ones pruned)',
    'Compose file, in the directory the VM sees',
  ])
    assert.ok(!ran.has(other), `${other} ran with -t gateway (plays: ${JSON.stringify(plays)})`);
});

test('a hostile portainer_hostname is refused before anything reaches nginx', async () => {
  const before = await sh('pct exec 101 -- cat /etc/nginx/sites-available/portainer');
  const r = await phoenix.phxPlay(
    '-t',
    'gateway',
    '-e',
    JSON.stringify({ portainer_hostname: 'evil.example; include /etc/shadow' }),
    SITE,
  );
  assert.notEqual(r.rc, 0);
  assert.match(r.stderr, /must be host names or addresses/);
  assert.equal(await sh('pct exec 101 -- cat /etc/nginx/sites-available/portainer'), before);
});
