// Issue 19: a converged playbooks/site.yml run reads the hypervisor from files,
// not through the Proxmox CLI programs (each a Perl program that loads the PVE
// libraries on a real host). Counted from the lab host's own log of Proxmox tool
// runs (lab/sim/tool-calls.ts) — a count, not a timing. And the lab's source of
// "which CT runs" (its /proc/1/net/unix) agrees with `pct status` as CTs start
// and stop, as pve-container's check_running reads it (src/PVE/LXC.pm).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { usePhoenixLab, type PhoenixRun } from './harness/phoenix-lab.js';
import { readToolCalls, pveToolCalls, PVE_TOOLS } from '../lab/sim/tool-calls.js';
import { isGuestExec } from '../bench/site-counts.js';
import { parseActiveCts } from '../src/proxmox/lxc-running.js';
import { openLabConnection } from './harness/lab-fixture.js';
import { createModuleContext, runModule } from '../src/module-runner.js';
import pct from '../modules/pct.js';

const SITE = join(resolve(dirname(fileURLToPath(import.meta.url)), '../..'), 'playbooks/site.yml');
const phoenix = usePhoenixLab('phx-budget-', 1);

/** Proxmox CLI programs the module reads may start on a converged run, per host. */
const MODULE_BUDGET = 3;

/** The Proxmox tools the playbook's own `command` tasks ran (argv from their registered `cmd`). */
function playbookCommands(r: PhoenixRun, host: string): string[][] {
  return r.events
    .filter((e) => e.type === 'host_result' && e.host === host && e.status !== 'skipped')
    .map((e) => (e.result as Record<string, unknown>).cmd)
    .filter((c): c is string[] => Array.isArray(c) && (PVE_TOOLS as readonly string[]).includes(String(c[0])));
}

test('a converged site.yml run starts no Proxmox CLI read on the host but guest execs, within the budget', async () => {
  const host = phoenix.lab.hosts[0];
  const first = await phoenix.phxPlay(SITE);
  assert.equal(first.rc, 0, first.stderr.slice(-3000));
  const firstCalls = readToolCalls(host.root);
  assert.ok(
    firstCalls.some((c) => c[0] === 'pct' && c[1] === 'create'),
    'the first run made the CTs (the log counts)',
  );

  const second = await phoenix.phxPlay(SITE);
  assert.equal(second.rc, 0, second.stderr.slice(-3000));
  const recap = second.events.find((e) => e.type === 'recap')!.hosts as Record<string, Record<string, number>>;
  assert.equal(recap[host.name].changed, 0, 'converged');
  // lxc-attach (the pct connection's commands) is logged too, but is no Proxmox CLI program
  const calls = pveToolCalls(readToolCalls(host.root).slice(firstCalls.length));

  // reads of the host's own state come from files: only what runs inside a guest remains
  assert.deepEqual(
    calls.filter((c) => !isGuestExec(c)),
    [],
    'no pct status/config, pvesm, qm config, pveversion … on a converged run',
  );
  const own = playbookCommands(second, host.name);
  assert.ok(own.length >= 1, 'the playbook runs pct exec / qm guest exec itself');
  const byModules = calls.length - own.length;
  assert.ok(
    byModules <= MODULE_BUDGET,
    `modules started ${byModules} Proxmox CLI programs (budget ${MODULE_BUDGET}): ${calls.map((c) => c.slice(0, 3).join(' ')).join('; ')}`,
  );
});

test("the lab host's /proc/1/net/unix lists exactly the CTs `pct status` says run, as they start and stop", async () => {
  const sh = async (cmd: string) => {
    const r = await phoenix.lab.exec(phoenix.lab.hosts[0].name, cmd);
    assert.equal(r.rc, 0, `${cmd}: ${r.stderr}`);
    return r.stdout;
  };
  const agree = async () => {
    const ids = (await sh('ls /etc/pve/lxc'))
      .split('\n')
      .filter((f) => /^\d+\.conf$/.test(f))
      .map((f) => parseInt(f, 10));
    assert.ok(ids.length >= 2, 'CTs to compare (site.yml made them)');
    const active = parseActiveCts(await sh('cat /proc/1/net/unix'));
    for (const id of ids) {
      const status = (await sh(`pct status ${id}`)).trim();
      assert.equal(status, `status: ${active.has(id) ? 'running' : 'stopped'}`, `CT ${id}`);
    }
    return active;
  };
  // after site.yml: 101 and 102 run, 900 (the clone template) does not
  const before = await agree();
  assert.ok(before.has(101) && !before.has(900));
  await sh('pct stop 101');
  assert.ok(!(await agree()).has(101));
  await sh('pct start 101');
  assert.ok((await agree()).has(101));
  // the machine's own /proc/1/net/unix (outside the host) is not the host's
  assert.ok(!parseActiveCts(readFileSync('/proc/1/net/unix', 'utf8')).has(101));
});

test('a host where /proc/1/net/unix cannot be read: pct asks `pct status`, as before (the file or the tool)', async () => {
  const { lab } = phoenix;
  const host = lab.hosts[0];
  const home = mkdtempSync(join(tmpdir(), 'phx-budget-home-'));
  const conn = await openLabConnection(lab, home);
  const sh = async (cmd: string) => {
    const r = await lab.exec(host.name, cmd);
    assert.equal(r.rc, 0, `${cmd}: ${r.stderr}`);
  };
  const ensure = async () => {
    const before = readToolCalls(host.root).length;
    const ctx = createModuleContext({ host: host.name, conn });
    const r = await runModule(pct, pct.args.parse({ ctid: 101, state: 'started' }), ctx);
    return { r, calls: readToolCalls(host.root).slice(before) };
  };
  try {
    const fromFile = await ensure();
    assert.ok(!fromFile.r.failed, JSON.stringify(fromFile.r));
    assert.equal(fromFile.r.changed, false);
    assert.deepEqual(fromFile.calls, [], 'read from the file');
    // hide the file (an empty directory over /proc/1/net), then put the host's back
    await sh('mkdir -p /var/lib/phx-lab/empty && mount --bind /var/lib/phx-lab/empty /proc/1/net');
    try {
      const fromTool = await ensure();
      assert.ok(!fromTool.r.failed, JSON.stringify(fromTool.r));
      assert.equal(fromTool.r.changed, false, 'CT 101 runs: pct status said so');
      assert.deepEqual(fromTool.calls, [['pct', 'status', '101']]);
    } finally {
      await sh('umount /proc/1/net');
    }
  } finally {
    await conn.close();
    rmSync(home, { recursive: true, force: true });
  }
});
