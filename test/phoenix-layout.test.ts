// The operators' layout of the Phoenix playbooks on one lab host: defaults come from
// playbooks/group_vars/all.yml, so an inventory outside the repository with only site
// values converges; `-t storage` runs only the storage play (and the preflight, tag
// always); a host missing a pool stops at the preflight with one line and no change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { usePhoenixLab, type PhoenixRun } from './harness/phoenix-lab.js';
import { repoRoot, runCli } from './helpers/cli.js';

const playbook = (name: string) => join(repoRoot, 'playbooks', name);
const H = 'pve1';

const phoenix = usePhoenixLab('phx-phoenix-layout-', 1);
const phxPlay = phoenix.phxPlay;
const explain = (r: PhoenixRun) => `rc ${r.rc}\n${r.stderr.slice(-4000)}`;
const recap = (r: PhoenixRun) =>
  (r.events.find((e) => e.type === 'recap')?.hosts as Record<string, Record<string, number>>)[H];
const eventsOf = (r: PhoenixRun, type: string) => r.events.filter((e) => e.type === type && e.host === H);

async function sh(command: string): Promise<string> {
  const r = await phoenix.lab.exec(H, command);
  assert.equal(r.rc, 0, `${command}\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Names of the tasks and handlers of a playbook file (and of the files it includes). */
function taskNames(file: string): Set<string> {
  const names = new Set<string>();
  const walk = (tasks: Array<Record<string, unknown>> | undefined) => {
    for (const t of tasks ?? []) {
      if (typeof t.name === 'string') names.add(t.name);
      if (typeof t.include_tasks === 'string')
        for (const n of taskNames(join(repoRoot, 'playbooks', t.include_tasks))) names.add(n);
    }
  };
  const doc = parse(readFileSync(file, 'utf8')) as Array<Record<string, unknown>>;
  for (const entry of doc) {
    if (Array.isArray(entry.tasks) || Array.isArray(entry.handlers)) {
      walk(entry.tasks as Array<Record<string, unknown>>);
      walk(entry.handlers as Array<Record<string, unknown>>);
    } else if (!('hosts' in entry)) walk([entry]); // a tasks file
  }
  return names;
}

/** Every file of the host's state: path → type, mode, owner, content hash. */
function hashTree(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      const meta = `${st.mode.toString(8)} ${st.uid}:${st.gid}`;
      if (st.isDirectory()) {
        out.set(p.slice(root.length), `dir ${meta}`);
        walk(p);
      } else if (st.isSymbolicLink()) out.set(p.slice(root.length), `link ${meta} ${readlinkSync(p)}`);
      else out.set(p.slice(root.length), `${meta} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`);
    }
  };
  walk(root);
  return out;
}

test('preflight: a host without pool quickOS fails at the preflight with one line, and nothing is changed', async () => {
  const root = phoenix.lab.hosts[0].root;
  // a host installed without the quickOS pool (the lab keeps ZFS's state in zfs.json)
  const zfsState = join(root, 'var/lib/phx-lab/zfs.json');
  const state = JSON.parse(readFileSync(zfsState, 'utf8')) as { datasets: Record<string, unknown> };
  for (const name of Object.keys(state.datasets)) if (name.split('/')[0] === 'quickOS') delete state.datasets[name];
  writeFileSync(zfsState, JSON.stringify(state, null, 2) + '\n');
  assert.doesNotMatch(await sh('zfs list -H -o name'), /quickOS/);

  const before = hashTree(root);
  const r = await phxPlay(playbook('site.yml'));
  assert.equal(r.rc, 2, explain(r));
  const failures = [...eventsOf(r, 'item_result'), ...eventsOf(r, 'host_result')]
    .filter((e) => e.status === 'failed')
    .map((e) => (e.result as { msg?: string }).msg);
  assert.deepEqual(failures, [
    'ZFS pool quickOS (of quickOS/vm-persistent-data in zfs_datasets) does not exist on pve1: create it (zpool create quickOS …) or correct zfs_datasets',
    'One or more items failed',
  ]);
  assert.equal(recap(r).changed, 0);
  // no task of a later play ran
  const preflightTasks = taskNames(playbook('preflight.yml'));
  for (const e of eventsOf(r, 'host_result'))
    assert.ok(preflightTasks.has(e.task as string), `${e.task as string} ran after a failed preflight`);
  const after = hashTree(root);
  const diffs = [...after].filter(
    ([k, v]) => before.get(k) !== v && !/^\/var\/lib\/phx-lab\/vm\/\d+\/rootfs\//.test(k),
  );
  assert.deepEqual(
    diffs.concat([...before.keys()].filter((k) => !after.has(k)).map((k) => [k, '(gone)'])),
    [],
    'the preflight changed the host',
  );
});

test('-t storage runs the storage play (and the preflight, tag always), nothing of the other phases', async () => {
  await phoenix.lab.reset(H);
  const r = await phxPlay('-t', 'storage', playbook('site.yml'));
  assert.equal(r.rc, 0, explain(r));
  const allowed = new Set([...taskNames(playbook('preflight.yml')), ...taskNames(playbook('setup.yml'))]);
  const ran = eventsOf(r, 'host_result').map((e) => e.task as string);
  for (const t of ran) assert.ok(allowed.has(t), `${t} ran with -t storage`);
  assert.ok(ran.includes('Proxmox storage definitions (stale ones pruned)'));
  assert.ok(ran.includes('The ZFS pools named in zfs_datasets exist'));
  assert.match(await sh('cat /etc/pve/storage.cfg'), /zfspool: tank-ct/);
  assert.equal((await sh('pct list')).trim(), '', 'no container is made by the storage phase');
});

test('an inventory outside the repository with only site values converges; defaults come from playbooks/group_vars', async () => {
  await phoenix.lab.reset(H);
  // the lab host's connection in group phoenix_hypervisors, its gateway CT in phoenix_gateway; the lab's site
  // values as phoenix_hypervisors' group_vars
  const labInventory = parse(readFileSync(phoenix.lab.inventoryFile, 'utf8')) as {
    all: { children: { lab: { hosts: Record<string, unknown> } } };
  };
  const dir = join(phoenix.dir, 'site-inventory');
  mkdirSync(join(dir, 'group_vars'), { recursive: true });
  writeFileSync(
    join(dir, 'hosts.yml'),
    stringify({
      phoenix_hypervisors: { hosts: { [H]: labInventory.all.children.lab.hosts[H] } },
      // its gateway CT, reached through it (the gateway play; certs.yml's hook needs its certificate)
      phoenix_gateway: { hosts: { [`${H}-gateway`]: { ansible_connection: 'pct', ansible_host: H, pct_vmid: 101 } } },
    }),
  );
  const siteText = readFileSync(join(repoRoot, 'inventory/group_vars/lab.yml'), 'utf8');
  const site = parse(siteText) as Record<string, unknown>;
  const defaults = parse(readFileSync(join(repoRoot, 'playbooks/group_vars/all.yml'), 'utf8')) as Record<
    string,
    unknown
  >;
  for (const k of ['phoenix_bridge', 'phoenix_ct_defaults', 'shared_volume_modes', 'portainer_compose_timeout'])
    assert.ok(k in defaults && !(k in site), `${k} must be a default only`);
  writeFileSync(join(dir, 'group_vars/phoenix_hypervisors.yml'), siteText);

  const run = (...args: string[]) => runCli(['-i', dir, ...args, playbook('site.yml')], { cwd: phoenix.dir });
  const first = await run();
  assert.equal(first.code, 0, first.stderr.slice(-4000));
  const again = await run();
  assert.equal(again.code, 0, again.stderr.slice(-4000));
  assert.match(again.stdout, new RegExp(`${H}\\s*: ok=\\d+\\s+changed=0 `));
  // the defaults reached the containers: net0 on vmbr0, onboot, cores/memory, rootfs size
  const ct101 = await sh('pct config 101');
  assert.match(ct101, /^net0: name=eth0,bridge=vmbr0,hwaddr=[0-9A-F:]+,ip=dhcp,type=veth$/m);
  assert.match(ct101, /^onboot: 1$/m);
  assert.match(ct101, /^cores: 1$/m);
  assert.match(ct101, /^rootfs: tank-ct:subvol-101-disk-0,size=4G$/m);
  assert.match(await sh('pct config 102'), /^features: nesting=1,keyctl=1$/m);
  // portainer_data: owner and mode on its top directory only (Portainer's own files are its own)
  assert.equal(
    (await sh('stat -c "%u:%g %a" /quickOS/vm-persistent-data/1001/portainer/data')).trim(),
    '100000:100000 770',
  );
});
