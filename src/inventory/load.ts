// Reading `-i` sources into one inventory: a file (YAML by extension or by
// content, INI otherwise), a directory (every inventory file in it, in name
// order), or a comma list `h1,h2,`. Later sources add to earlier ones.
import { readdirSync, statSync, type Stats } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { PhxError, ValidationErrors } from '../errors.js';
import { parseYaml, readTextFile } from '../yaml-source.js';
import { readIniInventory } from './ini-format.js';
import { emptyInventory, inventoryExtras, InventoryBuilder, reconcile, type Inventory } from './model.js';
import { expandHostDefinition } from './ranges.js';
import { isYamlInventoryShape, readYamlInventory } from './yaml-format.js';

const YAML_EXTENSIONS = ['.yml', '.yaml', '.json'];
/** Ansible's INVENTORY_IGNORE_EXTS defaults: what a directory source skips */
const IGNORED_EXTENSIONS = [
  '.pyc',
  '.pyo',
  '.swp',
  '.bak',
  '~',
  '.rpm',
  '.md',
  '.txt',
  '.rst',
  '.orig',
  '.cfg',
  '.retry',
];
const IGNORED_NAMES = /^(?:\..*|host_vars|group_vars|vars_plugins)$/;

export interface LoadInventoryOptions {
  /** directory relative sources resolve from (default: the process's) */
  cwd?: string;
}

export function loadInventory(sources: string[], opts: LoadInventoryOptions = {}): Inventory {
  const cwd = opts.cwd ?? process.cwd();
  const inv = emptyInventory();
  const extras = inventoryExtras(inv);
  for (const source of sources) {
    const path = resolve(cwd, source);
    const stats = statOrUndefined(path);
    if (!stats && source.includes(',')) {
      readHostList(source, inv);
      inv.sources.push(source);
      continue;
    }
    if (!stats) {
      throw new PhxError(
        `inventory source '${source}' does not exist`,
        undefined,
        "give a file, a directory, or a comma list of hosts such as 'pve01,' (the trailing comma makes one host a list)",
      );
    }
    inv.sources.push(path);
    const varsDir = stats.isDirectory() ? path : dirname(path);
    if (!extras.varsDirs.includes(varsDir)) extras.varsDirs.push(varsDir);
    if (stats.isDirectory()) readDirectory(path, source, inv);
    else readInventoryFile(path, source, inv);
  }
  reconcile(inv);
  return inv;
}

/** `h1,h2:2222,pve[01:03],` → ungrouped hosts (a host already known keeps its groups). */
function readHostList(list: string, inv: Inventory): void {
  const b = new InventoryBuilder(inv);
  for (const item of list.split(',')) {
    const text = item.trim();
    if (!text) continue;
    const { names, port } = expandHostDefinition(text);
    for (const name of names) {
      if (inv.hosts.has(name)) continue;
      b.host(name, 'ungrouped');
      if (port !== undefined) b.setHostVar(name, 'ansible_port', port);
    }
  }
}

function readDirectory(dir: string, shown: string, inv: Inventory): void {
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch (e) {
    throw new PhxError(`cannot read inventory directory ${shown}: ${errorCode(e)}`);
  }
  for (const entry of entries) {
    if (IGNORED_NAMES.test(entry) || IGNORED_EXTENSIONS.some((ext) => entry.endsWith(ext))) continue;
    const path = join(dir, entry);
    const stats = statOrUndefined(path);
    if (!stats) continue; // a dangling symlink
    if (stats.isDirectory()) readDirectory(path, join(shown, entry), inv);
    else readInventoryFile(path, join(shown, entry), inv);
  }
}

/** One inventory file; `shown` is the name errors use (as the user wrote it). */
function readInventoryFile(path: string, shown: string, inv: Inventory): void {
  let text: string;
  try {
    text = readTextFile(path);
  } catch (e) {
    if (e instanceof PhxError) throw e;
    throw new PhxError(`cannot read inventory ${shown}: ${errorCode(e)}`);
  }
  const known = new Set(inv.hosts.keys());
  readInventoryText(text, path, shown, inv);
  const hostFile = inventoryExtras(inv).hostFile;
  for (const name of inv.hosts.keys()) if (!known.has(name)) hostFile.set(name, path);
}

function readInventoryText(text: string, path: string, shown: string, inv: Inventory): void {
  const ext = extname(path).toLowerCase();
  if (YAML_EXTENSIONS.includes(ext)) {
    readYamlInventory(parseYaml(text, shown), shown, inv);
    return;
  }
  if (ext !== '.ini') {
    // No telling extension: Ansible tries its YAML plugin before the INI one.
    const yaml = tryYaml(text, shown);
    if (isYamlInventoryShape(yaml)) {
      readYamlInventory(yaml, shown, inv);
      return;
    }
  }
  readIniInventory(text, shown, inv);
}

function tryYaml(text: string, file: string): unknown {
  try {
    return parseYaml(text, file);
  } catch (e) {
    if (e instanceof ValidationErrors || e instanceof PhxError) return undefined;
    throw e;
  }
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function errorCode(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}
