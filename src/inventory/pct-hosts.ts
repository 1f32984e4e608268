// A host with `ansible_connection: pct` is a container reached through another
// inventory host (its hypervisor, `ansible_host`) by `pct_vmid`: both must name
// something real before anything runs, located where the inventory set them.
import { PhxError, type SourceLoc } from '../errors.js';
import { plain } from '../unsafe.js';
import { pctVmid } from './connection-vars.js';
import { inventoryExtras, type Inventory } from './model.js';

/** Where an inventory file set `key` for `host`: on the host itself, else in its most specific group. */
function whereSet(inv: Inventory, host: string, key: string, groups: string[]): SourceLoc | undefined {
  const locs = inventoryExtras(inv).varLoc;
  const own = locs.get(`host:${host}`)?.get(key);
  if (own) return own;
  for (const g of [...groups].reverse()) {
    const loc = locs.get(`group:${g}`)?.get(key);
    if (loc) return loc;
  }
  return locs.get('group:all')?.get(key);
}

/**
 * The problems of one pct host. `vars` are its merged variables, `varsOf` gives
 * another host's (the hypervisor's connection kind), `groups` its groups in the order their vars apply.
 */
export function pctHostProblems(
  inv: Inventory,
  host: string,
  vars: Record<string, unknown>,
  groups: string[],
  varsOf: (host: string) => Record<string, unknown>,
): PhxError[] {
  if (plain(vars.ansible_connection) !== 'pct') return [];
  const at = (key: string) => whereSet(inv, host, key, groups);
  const problems: PhxError[] = [];
  const hypervisor = plain(vars.ansible_host);
  if (typeof hypervisor !== 'string' || hypervisor === '') {
    problems.push(
      new PhxError(
        `host ${host}: ansible_connection pct needs ansible_host, the inventory name of the hypervisor the container runs on`,
        at('ansible_connection'),
      ),
    );
  } else if (hypervisor === host || !inv.hosts.has(hypervisor)) {
    problems.push(
      new PhxError(
        `host ${host}: ansible_host ${JSON.stringify(hypervisor)} is not ${hypervisor === host ? 'another' : 'an'} inventory host: with ansible_connection pct it names the hypervisor the container runs on`,
        at('ansible_host'),
      ),
    );
  } else if (plain(varsOf(hypervisor).ansible_connection) === 'pct') {
    problems.push(
      new PhxError(
        `host ${host}: its hypervisor ${hypervisor} is itself a pct container (containers do not nest)`,
        at('ansible_host'),
      ),
    );
  }
  if (pctVmid(plain(vars.pct_vmid)) === undefined) {
    problems.push(
      new PhxError(
        vars.pct_vmid === undefined
          ? `host ${host}: ansible_connection pct needs pct_vmid, the container's id (100 to 999999999)`
          : `host ${host}: pct_vmid must be a container id from 100 to 999999999, got ${JSON.stringify(plain(vars.pct_vmid))}`,
        at(vars.pct_vmid === undefined ? 'ansible_connection' : 'pct_vmid'),
      ),
    );
  }
  return problems;
}
