// pveversion: pve-manager bin/pveversion prints
// "$package/$version_text (running kernel: $kver)" (version_text is
// "<version>/<repoid>"), or, with --verbose, one "pkg: version" line per package.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { PVECFG_PM, parsePveVersion, pveVersion, pveversionLineFromPvecfg } from '../src/proxmox/pve-version.js';
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

test("lab pveversion: the host's PVE/pvecfg.pm (PVE 9 when seeded, PVE 8 after phx-lab-pve-version 8.4.1), read as bin/pveversion reads PVE::pvecfg", () => {
  // pve-manager bin/pveversion: PVE::pvecfg::package() . '/' . PVE::pvecfg::version_text(), the kernel of
  // POSIX::uname; PVE/pvecfg.pm.in: each sub returns a literal
  const kernel = release();
  const nine = s.run('pveversion');
  assert.equal(nine.rc, 0);
  assert.equal(parsePveVersion(nine.stdout)?.major, 9);
  const file = s.path(PVECFG_PM);
  assert.equal(
    nine.stdout.trim(),
    pveversionLineFromPvecfg(readFileSync(file, 'utf8'), kernel),
    'the file and the tool agree',
  );
  assert.equal(s.run('phx-lab-pve-version', '8.4.1').rc, 0);
  const eight = s.run('pveversion');
  assert.equal(eight.stdout, `pve-manager/8.4.1/2a5fa54a8503f96d (running kernel: ${kernel})\n`);
  assert.equal(eight.stdout.trim(), pveversionLineFromPvecfg(readFileSync(file, 'utf8'), kernel));
  assert.match(readFileSync(file, 'utf8'), /^sub release \{\n {4}return '8\.4';\n\}$/m);
  assert.match(
    s.run('pveversion', '--verbose').stdout,
    /^proxmox-ve: 8\.4\.0 \(running kernel: .*\)\npve-manager: 8\.4\.1 \(running version: 8\.4\.1\/2a5fa54a8503f96d\)\n$/,
  );
  // what pveversion reads is the file: edited by hand, the tool says the same
  writeFileSync(file, readFileSync(file, 'utf8').replace(/'8\.4\.1\/2a5fa54a8503f96d'/, "'8.4.9/0123456789abcdef'"));
  assert.equal(s.run('pveversion').stdout, `pve-manager/8.4.9/0123456789abcdef (running kernel: ${kernel})\n`);
  assert.equal(s.run('phx-lab-pve-version', '8.x').rc, 2);
  const bad = s.run('pveversion', '--foo');
  assert.equal(bad.rc, 255);
  assert.match(bad.stderr, /USAGE: pveversion \[--verbose\]/);
  rmSync(file);
  const none = s.run('pveversion');
  assert.equal(none.rc, 2, 'perl cannot load PVE::pvecfg');
  assert.match(none.stderr, /^Can't locate PVE\/pvecfg\.pm in @INC/);
});
