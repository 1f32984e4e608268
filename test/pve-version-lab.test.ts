// pveversion on a lab host over SSH (the shim in the host's PATH), read by
// pveVersion once per connection from the host's own PVE/pvecfg.pm (pve-manager
// PVE/pvecfg.pm.in's form) and `uname -r`, without starting pveversion;
// `phx-lab-pve-version 8.4.1` makes the host a PVE 8 one (rewrites pvecfg.pm).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createModuleContext } from '../src/module-runner.js';
import { existsSync, readFileSync } from 'node:fs';
import { readToolCalls } from '../lab/sim/tool-calls.js';
import { PVECFG_PM, parsePveVersion, pveVersion } from '../src/proxmox/pve-version.js';
import { openLabConnection, useLabHost } from './harness/lab-fixture.js';

const fx = useLabHost('phx-pve-version-lab-');

test('pveversion over SSH: PVE 9 by default, read from pvecfg.pm once per connection (no pveversion run); PVE 8 after phx-lab-pve-version', async () => {
  assert.match(await fx.sh('pveversion'), /^pve-manager\/9\.\d+\.\d+\/[0-9a-f]+ \(running kernel: \S+\)\n$/);
  const root = fx.lab.hosts[0].root;
  const before = readToolCalls(root).length;
  const ctx = createModuleContext({ host: fx.host, conn: fx.conn });
  assert.equal((await pveVersion(ctx))?.major, 9);
  assert.deepEqual(readToolCalls(root).slice(before), [], 'the file, not the tool');
  // each host its own file (bound in its mount namespace), not the machine's
  assert.ok(
    !existsSync(PVECFG_PM) || !readFileSync(PVECFG_PM, 'utf8').includes("'9.1.1/"),
    "the machine's file untouched",
  );
  await fx.sh('phx-lab-pve-version 8.4.1');
  assert.equal((await pveVersion(ctx))?.major, 9, 'cached for the connection');
  const kernel = (await fx.sh('uname -r')).trim();
  const expected = { major: 8, minor: 4, patch: 1, text: '8.4.1', kernel };
  assert.deepEqual(parsePveVersion(await fx.sh('pveversion')), expected, 'the tool reads the rewritten file');
  const conn = await openLabConnection(fx.lab, fx.dir);
  try {
    const before8 = readToolCalls(root).length;
    assert.deepEqual(
      await pveVersion(createModuleContext({ host: fx.host, conn })),
      expected,
      'the file read gives the same',
    );
    assert.deepEqual(readToolCalls(root).slice(before8), [], 'again without the tool');
  } finally {
    await conn.close();
  }
});
