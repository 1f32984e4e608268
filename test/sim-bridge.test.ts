// The lab's bridges: a host has vmbr0 (as a default Proxmox VE install) in /sys/class/net,
// and the simulated pct plugs a container's veth only into a bridge that exists, as
// pve-container does: src/lxcnetaddbr (the start hook) dies "bridge 'X' does not exist"
// when /sys/class/net/<bridge>/mtu cannot be read, and a hotplugged netN of a running CT goes
// through PVE::LXC::update_net → pve-common PVE::Network::veth_create → read_bridge_mtu (same
// words), reported by PVE::LXC::Config vmconfig_hotplug_pending as "unable to hotplug netN: …".
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { SimRoot, TEMPLATE_VOL } from '../lab/testkit.js';

const s = new SimRoot('pve1');
after(() => s.cleanup());

test('a seeded host has vmbr0 in /sys/class/net (a Linux bridge with an mtu) and in /etc/network/interfaces', () => {
  assert.equal(readFileSync(s.path('/sys/class/net/vmbr0/mtu'), 'utf8'), '1500\n');
  assert.ok(existsSync(s.path('/sys/class/net/vmbr0/bridge')));
  assert.ok(!existsSync(s.path('/sys/class/net/eno1/bridge')), 'the uplink is no bridge');
  assert.match(readFileSync(s.path('/etc/network/interfaces'), 'utf8'), /^auto vmbr0\niface vmbr0 inet static\n/m);
});

test('pct start: a net0 on a bridge that does not exist fails the start; on vmbr0 it starts', () => {
  const create = s.run('pct', 'create', '120', TEMPLATE_VOL, '--unprivileged', '1', '--net0', 'name=eth0,bridge=vmbr9');
  assert.equal(create.rc, 0, create.stderr); // pct create does not look at the bridge
  const start = s.run('pct', 'start', '120');
  assert.equal(start.rc, 255);
  assert.equal(start.stderr, "startup for container '120' failed\n");
  assert.equal(start.stdout, "bridge 'vmbr9' does not exist\n");
  assert.equal(s.run('pct', 'status', '120').stdout, 'status: stopped\n');

  assert.equal(s.run('pct', 'set', '120', '--net0', 'name=eth0,bridge=vmbr0').rc, 0);
  const again = s.run('pct', 'start', '120');
  assert.equal(again.rc, 0, again.stderr);
  assert.equal(s.run('pct', 'status', '120').stdout, 'status: running\n');
});

test('pct set on a running CT: a new netN on a missing bridge is refused as a hotplug error, nothing written', () => {
  const before = readFileSync(s.path('/etc/pve/lxc/120.conf'), 'utf8');
  const r = s.run('pct', 'set', '120', '--net1', 'name=eth1,bridge=vmbr9');
  assert.equal(r.rc, 255);
  assert.equal(
    r.stderr,
    "400 Parameter verification failed.\nnet1: unable to hotplug net1: bridge 'vmbr9' does not exist\n",
  );
  assert.equal(readFileSync(s.path('/etc/pve/lxc/120.conf'), 'utf8'), before);
  assert.equal(s.run('pct', 'set', '120', '--net1', 'name=eth1,bridge=vmbr0').rc, 0);
});
