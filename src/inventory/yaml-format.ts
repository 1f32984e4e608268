// Ansible's YAML (and JSON) inventory: top-level keys are groups; a group
// has `hosts` (name → vars), `vars`, and `children` (name → group), at any
// depth. A host may be listed in several groups; its vars accumulate.
import { PhxError, type SourceLoc } from '../errors.js';
import { locate, locateValue } from '../yaml-source.js';
import { checkConnectionVar } from './connection-vars.js';
import { InventoryBuilder, type Inventory } from './model.js';
import { expandHostDefinition } from './ranges.js';
import { nearest } from './suggest.js';

const GROUP_KEYS = ['hosts', 'vars', 'children'] as const;

type Mapping = Record<string, unknown>;
const isMapping = (v: unknown): v is Mapping => v !== null && typeof v === 'object' && !Array.isArray(v);
const describe = (v: unknown): string =>
  Array.isArray(v)
    ? 'a list'
    : v === null
      ? 'nothing'
      : isMapping(v)
        ? 'a mapping'
        : `${typeof v} ${JSON.stringify(v)}`;

/** Would Ansible's YAML inventory plugin accept this parsed document? (used to tell YAML from INI) */
export function isYamlInventoryShape(data: unknown): boolean {
  return (
    isMapping(data) && Object.keys(data).length > 0 && Object.values(data).every((v) => v === null || isMapping(v))
  );
}

export function readYamlInventory(data: unknown, file: string, inv: Inventory): void {
  const top: SourceLoc = { file, line: 1, col: 1 };
  if (data === null || data === undefined) throw new PhxError('inventory file is empty', top);
  if (!isMapping(data)) {
    throw new PhxError(
      `a YAML inventory must be a mapping of group names (usually just 'all:'), got ${describe(data)}`,
      locate(data) ?? top,
    );
  }
  if ('plugin' in data) {
    throw new PhxError(
      'inventory plugin configuration files are not supported; list hosts and groups instead',
      locate(data, 'plugin'),
    );
  }
  const b = new InventoryBuilder(inv);
  for (const [name, body] of Object.entries(data)) readGroup(b, data, name, body, undefined);
}

function readGroup(b: InventoryBuilder, owner: Mapping, name: string, body: unknown, parent: string | undefined): void {
  const nameLoc = locate(owner, name);
  if (name.trim() === '' || /\s/.test(name))
    throw new PhxError(`invalid group name '${name}': group names cannot be empty or contain spaces`, nameLoc);
  b.group(name);
  if (parent !== undefined) b.child(parent, name, nameLoc);
  if (body === null || body === undefined) return;
  if (!isMapping(body)) {
    throw new PhxError(
      `group '${name}' must be a mapping with hosts, vars or children, got ${describe(body)}`,
      locateValue(owner, name),
      Array.isArray(body) ? `hosts are listed as a mapping: '${name}: { hosts: { host1: , host2: } }'` : undefined,
    );
  }
  for (const [key, section] of Object.entries(body)) {
    if (!(GROUP_KEYS as readonly string[]).includes(key)) {
      const near = nearest(key, GROUP_KEYS);
      throw new PhxError(
        `unknown key '${key}' in group '${name}'${near ? `: did you mean '${near}'?` : ''} (a group has only hosts, vars, children)`,
        locate(body, key),
        near
          ? undefined
          : `a host goes under '${name}: { hosts: { ${key}: } }'; a variable under '${name}: { vars: { ${key}: ... } }'`,
      );
    }
    if (section === null || section === undefined) continue;
    const entries = typeof section === 'string' && key !== 'vars' ? { [section]: null } : section;
    if (!isMapping(entries)) {
      throw new PhxError(
        `'${key}' of group '${name}' must be a mapping, got ${describe(section)}`,
        locateValue(body, key),
        Array.isArray(section) ? `write '${key}:' entries as 'name:' keys, not as '- name' list items` : undefined,
      );
    }
    if (key === 'vars') readGroupVars(b, name, entries);
    else if (key === 'children')
      for (const [child, childBody] of Object.entries(entries)) readGroup(b, entries, child, childBody, name);
    else readHosts(b, name, entries, locateValue(body, key));
  }
}

function readGroupVars(b: InventoryBuilder, group: string, vars: Mapping): void {
  for (const [k, v] of Object.entries(vars)) {
    checkConnectionVar(k, v, locateValue(vars, k));
    if (k === 'ansible_group_priority' && !(typeof v === 'number' && Number.isInteger(v))) {
      throw new PhxError(`ansible_group_priority must be an integer, got ${describe(v)}`, locateValue(vars, k));
    }
    b.setGroupVar(group, k, v, locateValue(vars, k));
  }
}

function readHosts(b: InventoryBuilder, group: string, hosts: Mapping, sectionLoc: SourceLoc | undefined): void {
  for (const [definition, hostVars] of Object.entries(hosts)) {
    const loc = locate(hosts, definition) ?? sectionLoc; // `hosts: pve[01:03]` written as one string
    const { names, port } = expandHostDefinition(definition, loc);
    if (hostVars !== null && hostVars !== undefined && !isMapping(hostVars)) {
      throw new PhxError(
        `variables of host '${definition}' must be a mapping, got ${describe(hostVars)}`,
        locateValue(hosts, definition) ?? loc,
      );
    }
    const vars = hostVars ?? {};
    for (const [k, v] of Object.entries(vars)) checkConnectionVar(k, v, locateValue(vars, k));
    for (const host of names) {
      b.host(host, group);
      if (port !== undefined) b.setHostVar(host, 'ansible_port', port);
      for (const [k, v] of Object.entries(vars)) b.setHostVar(host, k, v, locateValue(vars, k));
    }
  }
}
