// docs/modules/<name>.md against the registry: every module has a page, and its
// "## Arguments" table names exactly the arguments of the module's zod schema
// (the code is the truth: a doc that disagrees is what gets fixed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BUILTIN_MODULES } from '../src/modules-index.js';
import { knownKeys } from '../src/playbook/zod-introspect.js';

const DOCS = fileURLToPath(new URL('../../docs/', import.meta.url));
const MODULE_DOCS = `${DOCS}modules/`;

/** The rows of the `## Arguments` section's table(s), each as its cells (a `\|` stays inside its cell). */
function argumentRows(page: string, text: string): string[][] {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === '## Arguments');
  assert.ok(start >= 0, `${page}: no '## Arguments' section`);
  const end = lines.findIndex((l, i) => i > start && l.startsWith('## '));
  const rows = lines
    .slice(start + 1, end < 0 ? undefined : end)
    .filter((l) => l.trim().startsWith('|'))
    .map((l) =>
      l
        .trim()
        .replace(/^\||\|$/g, '')
        .split(/(?<!\\)\|/)
        .map((c) => c.trim()),
    );
  assert.ok(rows.length >= 2, `${page}: the Arguments section has no table`);
  const [header, rule, ...body] = rows;
  assert.equal(header[0], 'key', `${page}: the Arguments table's first column is not 'key'`);
  assert.ok(/^-+$/.test(rule[0]), `${page}: the Arguments table has no |---| line under its header`);
  return body;
}

/**
 * The argument names in a key cell: every `code` span, with a written value dropped
 * (`remote_src: false`) and a range expanded (`net0` … `net9`). Plain words
 * ("any variable name") name no argument.
 */
function keysOfCell(page: string, cell: string): string[] {
  const spans = [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1].replace(/:.*$/, '').trim());
  const range = /`([a-z_]+)(\d+)`\s*…\s*`\1(\d+)`/.exec(cell);
  const keys = range
    ? [
        ...spans.filter((s) => s !== `${range[1]}${range[2]}` && s !== `${range[1]}${range[3]}`),
        ...Array.from(
          { length: Number(range[3]) - Number(range[2]) + 1 },
          (_, i) => `${range[1]}${Number(range[2]) + i}`,
        ),
      ]
    : spans;
  for (const k of keys)
    assert.match(k, /^[A-Za-z_][\w-]*$/, `${page}: '${k}' in the key column is not an argument name`);
  return keys;
}

function documentedKeys(name: string): Set<string> {
  const page = `docs/modules/${name}.md`;
  const text = readFileSync(`${MODULE_DOCS}${name}.md`, 'utf8');
  assert.match(text, new RegExp(`^# ${name} — `), `${page}: the title is not '# ${name} — …'`);
  return new Set(argumentRows(page, text).flatMap((row) => keysOfCell(page, row[0])));
}

test('every module has a page in docs/modules/, and every page is a module', () => {
  const pages = readdirSync(MODULE_DOCS)
    .filter((f) => f.endsWith('.md'))
    .map((f) => f.replace(/\.md$/, ''))
    .sort();
  const modules = BUILTIN_MODULES.map((d) => d.name).sort();
  assert.deepEqual(pages, modules);
});

test('docs/MODULES.md links every module page', () => {
  const index = readFileSync(`${DOCS}MODULES.md`, 'utf8');
  for (const { name } of BUILTIN_MODULES)
    assert.ok(index.includes(`[${name}](modules/${name}.md)`), `docs/MODULES.md has no link to ${name}`);
});

for (const def of BUILTIN_MODULES) {
  test(`docs/modules/${def.name}.md documents exactly the arguments of its schema`, () => {
    const documented = documentedKeys(def.name);
    const schema = knownKeys(def.args);
    if (schema === undefined) return; // any name is an argument (set_fact): nothing documented can be unknown
    const schemaKeys = [...schema.keys()];
    const unknown = [...documented].filter((k) => !schema.has(k));
    const undocumented = schemaKeys.filter((k) => !documented.has(k));
    assert.deepEqual(unknown, [], `documented in docs/modules/${def.name}.md but not an argument of ${def.name}`);
    assert.deepEqual(undocumented, [], `arguments of ${def.name} missing from the key column of its page`);
  });
}

test('the key column parser: code spans, written values, ranges, plain words', () => {
  assert.deepEqual(keysOfCell('t', '`path` (aliases `dest`, `name`)'), ['path', 'dest', 'name']);
  assert.deepEqual(keysOfCell('t', '`follow`, `remote_src: false`'), ['follow', 'remote_src']);
  assert.deepEqual(keysOfCell('t', '`net0` … `net2`, `features`'), ['features', 'net0', 'net1', 'net2']);
  assert.deepEqual(keysOfCell('t', 'any variable name'), []);
  assert.throws(() => keysOfCell('t', '`a b`'), /not an argument name/);
});
