// inventory/example.yml, the inventory operators adapt: it loads with the playbooks,
// none of its group values is shadowed by the defaults (playbooks/group_vars/all.yml
// ranks above an inventory file's group vars, as in Ansible), guest ids are unique
// across the cluster, everything refers to containers by name, and its ZFS properties
// are ones zfs accepts on a filesystem.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { hostVariables, loadInventory } from '../src/inventory/index.js';
import { appliesTo, nativeProperty } from '../src/proxmox/zfs-props.js';
import { repoRoot, runCli } from './helpers/cli.js';

const EXAMPLE = join(repoRoot, 'inventory/example.yml');
const PLAYBOOKS = join(repoRoot, 'playbooks');
const inv = loadInventory([EXAMPLE]);
// the hypervisors; the gateway CTs (group phoenix_gateway) are hosts reached through them
const gateways = [...inv.hosts.keys()].filter((h) => h.endsWith('-gateway'));
const hosts = [...inv.hosts.keys()].filter((h) => !gateways.includes(h));
const varsOf = (h: string) => hostVariables(inv, h, { playbookDir: PLAYBOOKS });

interface Container {
  name: string;
  clone_from?: string;
}

test('example: the hypervisors are in phoenix_hypervisors, and the playbooks pass --syntax-check with it', async () => {
  assert.ok(hosts.length >= 2);
  for (const h of hosts) assert.ok((varsOf(h).group_names as string[]).includes('phoenix_hypervisors'));
  // one gateway CT per node, on that node, with the node's id for its nginx container
  assert.equal(gateways.length, hosts.length);
  for (const g of gateways) {
    const v = varsOf(g);
    assert.deepEqual(v.group_names, ['phoenix_gateway']);
    assert.equal(v.ansible_connection, 'pct');
    const node = v.ansible_host as string;
    assert.ok(hosts.includes(node), `${g}: ${node}`);
    assert.equal(v.pct_vmid, (varsOf(node).phoenix_ctids as Record<string, number>).nginx, g);
  }
  const r = await runCli(['-i', EXAMPLE, '--syntax-check', join(PLAYBOOKS, 'site.yml')], { cwd: repoRoot });
  assert.equal(r.code, 0, r.stderr);
});

test("example: no group value of the file is shadowed by the playbooks' defaults", () => {
  const defaults = parse(readFileSync(join(PLAYBOOKS, 'group_vars/all.yml'), 'utf8')) as Record<string, unknown>;
  const groupVars = inv.groups.get('phoenix_hypervisors')!.vars;
  for (const k of Object.keys(groupVars))
    assert.ok(!(k in defaults), `${k} is a default too: set in the file it would be ignored`);
  for (const h of hosts) {
    const v = varsOf(h);
    for (const [k, value] of Object.entries(groupVars)) assert.deepEqual(v[k], value, `${h}: ${k}`);
  }
});

test('example: guest ids are unique across the cluster; containers and mounts are referred to by name', () => {
  const seen = new Map<number, string>();
  const own = (id: unknown, what: string) => {
    assert.equal(typeof id, 'number', what);
    assert.ok(!seen.has(id as number), `${what} reuses id ${String(id)} of ${seen.get(id as number)}`);
    seen.set(id as number, what);
  };
  for (const h of hosts) {
    const v = varsOf(h);
    own(v.portainer_vmid, `${h}: portainer_vmid`);
    const ids = v.phoenix_ctids as Record<string, number>;
    const containers = v.phoenix_containers as Container[];
    for (const ct of containers) {
      own(ids[ct.name], `${h}: container ${ct.name}`);
      if (ct.clone_from)
        assert.ok(
          containers.some((c) => c.name === ct.clone_from),
          `${ct.name}: clone_from`,
        );
    }
    for (const [volume, def] of Object.entries(v.shared_volumes as Record<string, { mounts: object }>))
      for (const name of Object.keys(def.mounts))
        assert.ok(
          containers.some((c) => c.name === name),
          `${volume} mounts into unknown container ${name}`,
        );
  }
});

test('example: dataset properties are filesystem properties zfs knows (no volblocksize on a filesystem)', () => {
  for (const h of hosts)
    for (const ds of varsOf(h).zfs_datasets as Array<{ name: string; properties?: Record<string, unknown> }>)
      for (const p of Object.keys(ds.properties ?? {})) {
        assert.ok(nativeProperty(p), `${ds.name}: ${p} is not a zfs property`);
        assert.ok(appliesTo(p, 'filesystem'), `${ds.name}: zfs refuses ${p} on a filesystem`);
      }
});
