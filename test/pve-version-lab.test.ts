// pveversion on a lab host over SSH (the shim in the host's PATH), read by
// pveVersion once per connection; the seed option makes the host a PVE 8 one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createModuleContext } from '../src/module-runner.js';
import { parsePveVersion, pveVersion } from '../src/proxmox/pve-version.js';
import { useLabHost } from './harness/lab-fixture.js';

const fx = useLabHost('phx-pve-version-lab-');

test('pveversion over SSH: PVE 9 by default, asked once per connection; PVE 8 with /var/lib/phx-lab/pve-version', async () => {
  assert.match(await fx.sh('pveversion'), /^pve-manager\/9\.\d+\.\d+\/[0-9a-f]+ \(running kernel: \S+-pve\)\n$/);
  const ctx = createModuleContext({ host: fx.host, conn: fx.conn });
  assert.equal((await pveVersion(ctx))?.major, 9);
  await fx.sh('echo 8.4.1 > /var/lib/phx-lab/pve-version');
  assert.equal((await pveVersion(ctx))?.major, 9, 'cached for the connection');
  assert.deepEqual(parsePveVersion(await fx.sh('pveversion')), {
    major: 8,
    minor: 4,
    patch: 1,
    text: '8.4.1',
    kernel: '6.8.12-9-pve',
  });
});
