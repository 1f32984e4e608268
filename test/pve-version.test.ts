// pveversion: pve-manager bin/pveversion prints
// "$package/$version_text (running kernel: $kver)" (version_text is
// "<version>/<repoid>"), or, with --verbose, one "pkg: version" line per package.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parsePveVersion, pveVersion } from '../src/proxmox/pve-version.js';
import { createModuleContext } from '../src/module-runner.js';
import type { ModuleContext } from '../src/module.js';
import { LocalConnection } from '../src/connection/local.js';
import type { ExecResult } from '../src/connection/types.js';
import { SimRoot } from '../lab/testkit.js';

test('parsePveVersion: PVE 8 and 9 lines, and what is not pve-manager', () => {
  assert.deepEqual(parsePveVersion('pve-manager/8.4.1/2a5fa54a8503f96d (running kernel: 6.8.12-9-pve)\n'), {
    major: 8,
    minor: 4,
    patch: 1,
    text: '8.4.1',
    kernel: '6.8.12-9-pve',
  });
  assert.deepEqual(parsePveVersion('pve-manager/9.0.3/025864202ebb6109 (running kernel: 6.14.8-2-pve)'), {
    major: 9,
    minor: 0,
    patch: 3,
    text: '9.0.3',
    kernel: '6.14.8-2-pve',
  });
  assert.equal(parsePveVersion('pve-manager/8.2/abc')?.patch, 0);
  for (const bad of [
    '',
    'bash: pveversion: command not found',
    'proxmox-ve: 8.4.0 (running kernel: x)',
    'pve-manager/x.y/z',
  ])
    assert.equal(parsePveVersion(bad), undefined, bad);
});

function counted(answer: ExecResult): { ctx: ModuleContext; calls: string[][] } {
  const calls: string[][] = [];
  const base = createModuleContext({ host: 'h', conn: new LocalConnection() });
  return {
    ctx: {
      ...base,
      run: (argv) => {
        calls.push([...argv]);
        return Promise.resolve(answer);
      },
    },
    calls,
  };
}

test('pveVersion asks once per connection; a host without pveversion is null, also cached', async () => {
  const pve = counted({
    rc: 0,
    stdout: 'pve-manager/8.4.1/2a5fa54a8503f96d (running kernel: 6.8.12-9-pve)\n',
    stderr: '',
  });
  assert.equal((await pveVersion(pve.ctx))?.major, 8);
  assert.equal((await pveVersion(pve.ctx))?.text, '8.4.1');
  assert.deepEqual(pve.calls, [['pveversion']]);
  const plain = counted({ rc: 127, stdout: '', stderr: 'sh: pveversion: not found\n' });
  assert.equal(await pveVersion(plain.ctx), null);
  assert.equal(await pveVersion(plain.ctx), null);
  assert.equal(plain.calls.length, 1);
});

const s = new SimRoot('pve1');
after(() => s.cleanup());

test('lab pveversion: a PVE 9 host by default, a PVE 8 host with the seed option; parsed by parsePveVersion', () => {
  const nine = s.run('pveversion');
  assert.equal(nine.rc, 0);
  assert.equal(parsePveVersion(nine.stdout)?.major, 9);
  const file = s.path('/var/lib/phx-lab/pve-version');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, '8.4.1\n');
  const eight = s.run('pveversion');
  assert.match(eight.stdout, /^pve-manager\/8\.4\.1\/[0-9a-f]{16} \(running kernel: 6\.8\.\S+-pve\)\n$/);
  assert.match(
    s.run('pveversion', '--verbose').stdout,
    /^proxmox-ve: 8\.4\.0 \(running kernel: .*\)\npve-manager: 8\.4\.1 /,
  );
  const bad = s.run('pveversion', '--foo');
  assert.equal(bad.rc, 255);
  assert.match(bad.stderr, /USAGE: pveversion \[--verbose\]/);
});
