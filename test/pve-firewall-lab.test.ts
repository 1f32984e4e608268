// pve_firewall against a lab host over SSH: on a fresh host (no /etc/pve/firewall yet, as before
// pve-firewall's first save_vmfw_conf: `mkdir $pvefw_conf_dir`) the check run predicts the real run and
// changes nothing, the real run writes the file, a second run is ok; a file with other sections keeps them
// byte for byte; an unknown guest fails and writes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pveFirewall from '../modules/pve_firewall.js';
import { comparable, useLabHost } from './harness/lab-fixture.js';

const fx = useLabHost('phx-pve-firewall-lab-');

const VM_FW = '/etc/pve/firewall/1001.fw';
const snapshot = () => fx.sh('ls -la /etc/pve/firewall 2>&1; cat /etc/pve/firewall/*.fw 2>&1; true');

// issue 14: CT 101 (nginx) may reach Portainer on VM 1001 at tcp/9443
const PHOENIX = {
  vmid: 1001,
  enable: true,
  options: { policy_in: 'DROP' },
  rules: [
    {
      type: 'in',
      action: 'ACCEPT',
      source: '10.0.0.101',
      proto: 'tcp',
      dport: 9443,
      comment: 'CT 101 nginx → Portainer',
    },
  ],
};

test('fresh host: --check predicts the first run and changes nothing; the run writes the file; second run ok', async () => {
  assert.match(await fx.sh('ls /etc/pve/nodes/*/qemu-server/'), /1001\.conf/);
  const before = await snapshot();
  assert.match(before, /No such file/, 'no firewall directory on a fresh host');
  const check = await fx.run(pveFirewall, PHOENIX, { check: true, diff: true });
  assert.equal(check.failed, undefined, String(check.msg));
  assert.equal(check.changed, true);
  assert.equal(await snapshot(), before, 'check mode left the host as it was');
  const expected =
    '[OPTIONS]\n\nenable: 1\npolicy_in: DROP\n\n[RULES]\n\nIN ACCEPT -source 10.0.0.101 -p tcp -dport 9443 # CT 101 nginx → Portainer\n';
  assert.equal((check.diff as { after: string }).after, expected);

  const real = await fx.run(pveFirewall, PHOENIX);
  assert.equal(real.failed, undefined, String(real.msg));
  assert.deepEqual(comparable(real), comparable(check));
  assert.equal(await fx.sh(`cat ${VM_FW}`), expected);
  // pmxcfs's mode for a file; no temp file left beside it
  assert.equal(await fx.sh(`stat -c %a ${VM_FW}; ls -A /etc/pve/firewall`), '640\n1001.fw\n');

  const again = await fx.run(pveFirewall, PHOENIX);
  assert.equal(again.changed, false, String(again.msg));
  assert.equal(again.failed, undefined);
  const checkAgain = await fx.run(pveFirewall, PHOENIX, { check: true });
  assert.equal(checkAgain.changed, false);
});

test('other sections, comments and unparsable lines stay byte for byte; present adds in order; exact then converges', async () => {
  await fx.sh(
    `mkdir -p /etc/pve/firewall && printf '%s\\n' '[OPTIONS]' '' 'enable: 1' '' '[ALIASES]' '' 'nginx 10.0.0.101 # CT 101' '' '[group webserver] # kept' '' 'IN HTTPS(ACCEPT)' '' > /etc/pve/firewall/cluster.fw`,
  );
  const file = [
    '# hand-written',
    '[OPTIONS]',
    'enable: 1',
    '',
    '[IPSET ipfilter-net0] # own address',
    '',
    '10.0.0.11',
    '',
    '[RULES]',
    '',
    'IN SSH(ACCEPT) -i net0  # admins',
    'IN ACCEPT -nonsense',
    '',
  ].join('\n');
  await fx.sh(`printf %s '${file}' > ${VM_FW}`);
  const rules = [
    { type: 'in', action: 'ACCEPT', macro: 'SSH', iface: 'net0', comment: 'admins' },
    { type: 'in', action: 'ACCEPT', source: 'nginx', proto: 'tcp', dport: 9443 },
    { type: 'group', action: 'webserver', iface: 'net0' },
  ];
  const present = await fx.run(pveFirewall, { vmid: 1001, rules_mode: 'present', rules });
  assert.equal(present.failed, undefined, String(present.msg));
  assert.equal(
    await fx.sh(`cat ${VM_FW}`),
    file.replace(
      'IN SSH(ACCEPT) -i net0  # admins\n',
      'IN SSH(ACCEPT) -i net0  # admins\nIN ACCEPT -source nginx -p tcp -dport 9443\nGROUP webserver -i net0\n',
    ),
  );
  assert.equal((await fx.run(pveFirewall, { vmid: 1001, rules_mode: 'present', rules })).changed, false);

  const exact = await fx.run(pveFirewall, { vmid: 1001, rules });
  assert.equal(exact.failed, undefined, String(exact.msg));
  assert.deepEqual(exact.rules_removed, ['IN ACCEPT -nonsense']);
  const text = await fx.sh(`cat ${VM_FW}`);
  assert.ok(
    text.startsWith('# hand-written\n[OPTIONS]\nenable: 1\n\n[IPSET ipfilter-net0] # own address\n\n10.0.0.11\n\n'),
    text,
  );
  assert.ok(
    text.endsWith(
      '[RULES]\n\nIN SSH(ACCEPT) -i net0  # admins\nIN ACCEPT -source nginx -p tcp -dport 9443\nGROUP webserver -i net0\n',
    ),
    text,
  );
  assert.equal((await fx.run(pveFirewall, { vmid: 1001, rules })).changed, false);
  assert.match(await fx.sh('cat /etc/pve/firewall/cluster.fw'), /\[group webserver\] # kept\n\nIN HTTPS\(ACCEPT\)\n/);
});

test('an unknown guest, an unknown security group: the task fails and writes nothing', async () => {
  const before = await snapshot();
  const none = await fx.run(pveFirewall, { vmid: 4242, enable: true });
  assert.equal(none.failed, true);
  assert.match(String(none.msg), /no guest 4242 in the cluster/);
  const group = await fx.run(pveFirewall, { vmid: 1001, rules: [{ type: 'group', action: 'dbserver' }] });
  assert.equal(group.failed, true);
  assert.match(String(group.msg), /no security group 'dbserver'/);
  assert.equal(await snapshot(), before);
});

test('cluster.fw: options and rules kept, its security groups and aliases untouched; second run ok', async () => {
  const before = await fx.sh('cat /etc/pve/firewall/cluster.fw');
  const args = {
    cluster: true,
    options: { policy_in: 'DROP', ebtables: false },
    rules_mode: 'present',
    rules: [{ type: 'in', action: 'ACCEPT', macro: 'ssh', iface: 'vmbr0', source: 'nginx' }],
  };
  const check = await fx.run(pveFirewall, args, { check: true });
  assert.equal(check.failed, undefined, String(check.msg));
  assert.equal(await fx.sh('cat /etc/pve/firewall/cluster.fw'), before);
  const real = await fx.run(pveFirewall, args);
  assert.deepEqual(comparable(real), comparable(check));
  assert.equal(
    await fx.sh('cat /etc/pve/firewall/cluster.fw'),
    '[OPTIONS]\n\nenable: 1\nebtables: 0\npolicy_in: DROP\n\n[ALIASES]\n\nnginx 10.0.0.101 # CT 101\n\n' +
      '[RULES]\n\nIN SSH(ACCEPT) -i vmbr0 -source nginx\n\n[group webserver] # kept\n\nIN HTTPS(ACCEPT)\n\n',
  );
  assert.equal((await fx.run(pveFirewall, args)).changed, false);
});
