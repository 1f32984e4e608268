// The counts `npm run bench -- --site` reports: Proxmox programs from a lab
// host's log (lab/sim/tool-calls.ts) and round trips from `phx-play -vv` output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { countToolCalls, roundTripsOf } from '../bench/site-counts.js';
import { readToolCalls, parseToolLatency, PVE_TOOL_LATENCY_MS } from '../lab/sim/tool-calls.js';

test('the lab logs each Proxmox tool run and lxc-attach (not zfs; lxc-attach apart from the Proxmox count), guest commands and passwords hidden, arguments with blanks kept', () => {
  // a host's root lies in its own directory, its log beside it (as <lab>/hosts/<name>/root and …/tool-calls.log)
  const hostDir = mkdtempSync(join(tmpdir(), 'phx-toolcalls-'));
  const root = join(hostDir, 'root');
  mkdirSync(root);
  const main = join(import.meta.dirname, '../lab/sim/main.js');
  const run = (...argv: string[]) =>
    spawnSync(process.execPath, [main, ...argv], {
      env: { ...process.env, PHX_LAB_ROOT: root, PHX_LAB_TOOL_LOG: join(hostDir, 'tool-calls.log') },
      encoding: 'utf8',
    });
  run('pveversion');
  run('pct', 'status', '999');
  run('pct', 'set', '999', '--description', 'two words\\x');
  run('pct', 'exec', '999', '--', 'cat', '/etc/secret');
  run('pct', 'create', '998', 'local:vztmpl/x.tar.zst', '--password', 'hunter2');
  run('zfs', 'list');
  run('lxc-attach', '-n', '999', '--', 'cat', '/etc/secret'); // logged, but lxc's C program: no Proxmox CLI call
  run('pct', '__finish-create', '998', '0'); // the simulator's own helper: no tool run
  const calls = readToolCalls(root);
  assert.deepEqual(calls, [
    ['pveversion'],
    ['pct', 'status', '999'],
    ['pct', 'set', '999', '--description', 'two words\\x'],
    ['pct', 'exec', '999', '--', '…'],
    ['pct', 'create', '998', 'local:vztmpl/x.tar.zst', '--password', '…'],
    ['lxc-attach', '-n', '999', '--', '…'],
  ]);
  const c = countToolCalls(calls);
  assert.equal(c.total, 5);
  assert.equal(c.lxcAttach, 1);
  assert.equal(c.guestExec, 1);
  assert.deepEqual(c.bySubcommand, { pveversion: 1, 'pct status': 1, 'pct set': 1, 'pct exec': 1, 'pct create': 1 });
  rmSync(hostDir, { recursive: true, force: true });
});

test('round trips per host and per task result from -vv output (loop items count, other hosts do not)', () => {
  const out = [
    'TASK [ZFS datasets] ****',
    "<pve1> EXEC export LC_ALL=C; sh -c 'zfs get …'",
    '<pve2> EXEC export LC_ALL=C; true',
    'ok: [pve1] => (item=tank/ct) (0.51s)',
    '<pve1> EXEC export LC_ALL=C; a',
    '<pve1> EXEC export LC_ALL=C; b',
    'changed: [pve1] => (item=tank/vm)',
    'ok: [pve2] => (item=tank/ct)',
    'TASK [assert] ****',
    'ok: [pve1]',
    'skipping: [pve1]',
  ].join('\n');
  assert.deepEqual(roundTripsOf(out, 'pve1'), { execs: 3, results: 3, maxPerResult: 2 });
  assert.deepEqual(roundTripsOf(out, 'pve2'), { execs: 1, results: 1, maxPerResult: 1 });
});

test('--tool-latency: pve, off, or tool=ms; anything else is refused', () => {
  assert.deepEqual(parseToolLatency('pve'), PVE_TOOL_LATENCY_MS);
  assert.deepEqual(parseToolLatency('off'), {});
  assert.deepEqual(parseToolLatency('pct=800,pvesm=900'), { pct: 800, pvesm: 900 });
  assert.throws(() => parseToolLatency('zfs=10'), /--tool-latency/);
  assert.throws(() => parseToolLatency('pct=-1'), /--tool-latency/);
});
