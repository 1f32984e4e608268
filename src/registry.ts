// Finds the built-in modules: every file in modules/ default-exports one
// defineModule(). Loaded only when a playbook needs validating or running,
// so `--version` and `--help` stay fast.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ModuleDefinition } from './module.js';

export interface ModuleRegistry {
  /** by name and by every alias */
  get(name: string): ModuleDefinition | undefined;
  /** canonical names, sorted */
  names(): string[];
  all(): ModuleDefinition[];
}

const modulesDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'modules');

let loaded: Promise<ModuleRegistry> | undefined;

export function loadRegistry(): Promise<ModuleRegistry> {
  loaded ??= (async () => {
    const files = readdirSync(modulesDir).filter((f) => f.endsWith('.js') && !f.startsWith('_')).sort();
    const defs = await Promise.all(
      files.map(async (f) => (await import(pathToFileURL(join(modulesDir, f)).href)).default as ModuleDefinition),
    );
    return makeRegistry(defs.filter((d) => d && typeof d.name === 'string'));
  })();
  return loaded;
}

export function makeRegistry(defs: ModuleDefinition[]): ModuleRegistry {
  const byName = new Map<string, ModuleDefinition>();
  for (const d of defs) {
    for (const n of [d.name, ...(d.aliases ?? [])]) {
      if (byName.has(n)) throw new Error(`module name ${n} is defined twice`);
      byName.set(n, d);
    }
  }
  return {
    get: (n) => byName.get(n),
    names: () => defs.map((d) => d.name).sort(),
    all: () => [...defs],
  };
}
