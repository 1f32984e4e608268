// The built-in modules (src/modules-index.ts: every file in modules/), indexed by
// name and alias. The CLI imports this only for commands that need it
// (src/cli/commands.ts), so `--help` stays light.
import type { ModuleDefinition } from './module.js';
import { BUILTIN_MODULES } from './modules-index.js';

export interface ModuleRegistry {
  /** by name and by every alias */
  get(name: string): ModuleDefinition | undefined;
  /** canonical names, sorted */
  names(): string[];
  all(): ModuleDefinition[];
}

let loaded: Promise<ModuleRegistry> | undefined;

export function loadRegistry(): Promise<ModuleRegistry> {
  // a throw in makeRegistry() becomes the promise's rejection, as callers expect of a loader
  loaded ??= new Promise((resolve) => resolve(makeRegistry([...BUILTIN_MODULES])));
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
