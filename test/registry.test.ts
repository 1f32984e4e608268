// The built-in modules are a static list (src/modules-index.ts) so the CLI can be
// bundled: a new file in modules/ that is not listed there would silently be no module.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ModuleDefinition } from '../src/module.js';
import { BUILTIN_MODULES } from '../src/modules-index.js';
import { loadRegistry } from '../src/registry.js';

// the sources (dist/ may keep the output of a file since deleted)
const MODULES_SRC = fileURLToPath(new URL('../../modules/', import.meta.url));

test('every file in modules/ is listed in src/modules-index.ts, and nothing else is', async () => {
  const files = readdirSync(MODULES_SRC).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.startsWith('_'));
  assert.ok(files.length > 0, `no module found in ${MODULES_SRC}`);
  const fromFiles = new Map<ModuleDefinition, string>();
  for (const f of files) {
    const js = f.replace(/\.ts$/, '.js');
    const imported = (await import(new URL(`../modules/${js}`, import.meta.url).href)) as {
      default?: ModuleDefinition;
    };
    const def = imported.default;
    assert.ok(def && typeof def.name === 'string', `modules/${f} does not default-export a defineModule()`);
    fromFiles.set(def, f);
  }
  const missing = [...fromFiles].filter(([def]) => !BUILTIN_MODULES.includes(def)).map(([, f]) => f);
  assert.deepEqual(missing, [], `add these to src/modules-index.ts: ${missing.join(', ')}`);
  const extra = BUILTIN_MODULES.filter((def) => !fromFiles.has(def)).map((d) => d.name);
  assert.deepEqual(extra, [], 'listed in src/modules-index.ts but not a file of modules/');
  assert.equal(new Set(BUILTIN_MODULES).size, BUILTIN_MODULES.length, 'a module is listed twice');
});

test('loadRegistry() indexes the built-in modules by name and alias, once', async () => {
  const registry = await loadRegistry();
  assert.equal(await loadRegistry(), registry);
  assert.deepEqual(registry.names(), BUILTIN_MODULES.map((d) => d.name).sort());
  for (const def of BUILTIN_MODULES) {
    for (const n of [def.name, ...(def.aliases ?? [])]) assert.equal(registry.get(n), def);
  }
});
