// group_vars/ and host_vars/ beside an inventory source or a playbook, found
// the way Ansible's host_group_vars plugin finds them: for an entity `web`,
// the first of `web` (file, or a directory of YAML files merged in lexical
// order, recursively), `web.yml`, `web.yaml`, `web.json`. Each directory and
// file is read once per cache, however many hosts ask.
import { readdirSync, statSync } from 'node:fs';
import { join, extname } from 'node:path';
import { PhxError } from '../errors.js';
import { locate, locateValue, parseYaml, readTextFile } from '../yaml-source.js';
import { checkConnectionVars } from './connection-vars.js';

const VARS_EXTENSIONS = ['', '.yml', '.yaml', '.json'];

export type VarsKind = 'group_vars' | 'host_vars';

export class VarsFileCache {
  private readonly entities = new Map<string, Record<string, unknown>>();
  private readonly listings = new Map<string, Set<string> | null>();

  /** Merged variables of `name` from `<baseDir>/<kind>/`, or {} if there are none. */
  varsFor(baseDir: string, kind: VarsKind, name: string): Record<string, unknown> {
    const key = `${baseDir}\0${kind}\0${name}`;
    let vars = this.entities.get(key);
    if (!vars) {
      vars = {};
      for (const file of this.filesFor(join(baseDir, kind), name)) Object.assign(vars, readVarsFile(file));
      this.entities.set(key, vars);
    }
    return vars;
  }

  private filesFor(dir: string, name: string): string[] {
    if (name.startsWith('/') || name === '' || name.includes('\0')) return [];
    const entries = this.list(dir);
    if (!entries) return [];
    for (const ext of VARS_EXTENSIONS) {
      if (!entries.has(name + ext)) continue;
      const path = join(dir, name + ext);
      return isDirectory(path) ? filesInVarsDir(path) : [path];
    }
    return [];
  }

  private list(dir: string): Set<string> | null {
    let entries = this.listings.get(dir);
    if (entries === undefined) {
      try {
        entries = new Set(readdirSync(dir));
      } catch {
        entries = null;
      }
      this.listings.set(dir, entries);
    }
    return entries;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Files of a group_vars/<name>/ directory: lexical order, recursing, skipping hidden and backup files. */
function filesInVarsDir(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    if (entry.startsWith('.') || entry.endsWith('~')) continue;
    const path = join(dir, entry);
    const ext = extname(entry);
    if (isDirectory(path)) {
      if (!ext) out.push(...filesInVarsDir(path));
    } else if (VARS_EXTENSIONS.includes(ext)) {
      out.push(path);
    }
  }
  return out;
}

function readVarsFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readTextFile(path);
  } catch (e) {
    if (e instanceof PhxError) throw e;
    throw new PhxError(
      `cannot read variables file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  const data = parseYaml(text, path);
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new PhxError(
      `${path} must hold a mapping of variable names to values, got ${Array.isArray(data) ? 'a list' : typeof data}`,
      locate(data) ?? { file: path, line: 1, col: 1 },
    );
  }
  const vars = data as Record<string, unknown>;
  checkConnectionVars(vars, (k) => locateValue(vars, k));
  return vars;
}
