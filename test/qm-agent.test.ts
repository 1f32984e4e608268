// agentEnabled follows qemu-server's PVE/QemuServer/Agent.pm ($agent_fmt:
// `enabled` is the default key, default 0; parse_guest_agent: a value that
// does not parse is warned about and treated as disabled) and PVE/JSONSchema.pm's
// boolean words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agentEnabled } from '../src/proxmox/qm-agent.js';
import { describeQmError } from '../src/proxmox/qm.js';

test('agent config values: absent, enabled, disabled', () => {
  assert.equal(agentEnabled(undefined), undefined);
  for (const on of ['1', 'enabled=1', '1,fstrim_cloned_disks=1', 'type=virtio,enabled=yes', 'on', 'True'])
    assert.equal(agentEnabled(on), true, on);
  for (const off of ['0', 'enabled=0', 'fstrim_cloned_disks=1', 'type=isa', '', 'enabled=maybe', 'off', '1,enabled=0'])
    assert.equal(agentEnabled(off), false, off);
});

test('"QEMU guest agent is not running" points at a possibly disabled agent', () => {
  assert.equal(
    describeQmError(105, 'QEMU guest agent is not running\n'),
    'the QEMU guest agent in VM 105 is not running (or disabled: check `agent: 1` in qm config 105)',
  );
});
