// include_vars: loads variables from YAML or JSON files on the controller (one file, or a
// directory's files in name order) into the host's variables, with Ansible's include_vars
// precedence: above task vars, below set_fact and register (the executor keeps them in their
// own layer, HostState.includedVars). Follows lib/ansible/plugins/action/include_vars.py:
// the file search path, the dir walk, files_matching, ignore_files, extensions, name and the
// result `ansible_included_var_files`. A vault-encrypted file is decrypted (src/yaml-source.ts).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, isAbsolute, join, relative, sep } from 'node:path';
import * as z from 'zod';
import { PhxError, ValidationErrors, formatLoc } from '../src/errors.js';
import { defineModule } from '../src/module.js';
import { compileUserRegex } from '../src/template/regex.js';
import { EvalFailure } from '../src/template/values.js';
import { unwrapUnsafe } from '../src/unsafe.js';
import { loadYamlFile } from '../src/yaml-source.js';

const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DEFAULT_EXTENSIONS = ['yaml', 'yml', 'json'];
/** A directory walk stops here: a vars tree this big is a mistake (a dir: pointing at /). */
const MAX_FILES = 10_000;

const args = () =>
  z
    .object({
      file: z.string().min(1).optional().describe('the file to load'),
      _raw_params: z
        .string()
        .min(1)
        .optional()
        .describe('the free form (`include_vars: x.yml`): the file, when file is not given'),
      dir: z.string().min(1).optional().describe('load every vars file of this directory, in name order'),
      depth: z.number().int().min(0).optional().describe('dir: how deep to go (0: all the way; 1: the directory only)'),
      files_matching: z.string().optional().describe('dir: only files whose name this regex finds (RE2)'),
      ignore_files: z
        .union([z.string(), z.array(z.string())])
        .optional()
        .describe('dir: file names to skip (regexes matched at the end of the name; a string splits on spaces)'),
      extensions: z.array(z.string()).optional().describe('dir: the extensions loaded (default yaml, yml, json)'),
      ignore_unknown_extensions: z
        .boolean()
        .optional()
        .describe('dir: skip files with other extensions instead of failing'),
      name: z
        .string()
        .regex(VAR_NAME, 'name must be a variable name (letters, digits, _)')
        .optional()
        .describe('put the variables under this one key'),
      hash_behaviour: z
        .enum(['replace', 'merge'])
        .optional()
        .describe('replace (default): a variable replaces its old value; merge: mappings merge into it'),
    })
    .strict()
    .superRefine((a, ctx) => {
      const dirArgs = (
        ['depth', 'files_matching', 'ignore_files', 'extensions', 'ignore_unknown_extensions'] as const
      ).filter((k) => a[k] !== undefined);
      const file = a.file ?? a._raw_params;
      if (file !== undefined && (a.dir !== undefined || dirArgs.length > 0))
        ctx.addIssue({
          code: 'custom',
          path: ['file'],
          message: `file cannot be used with ${[...(a.dir !== undefined ? ['dir'] : []), ...dirArgs].join(', ')} (those are for dir)`,
        });
      else if (file === undefined && a.dir === undefined)
        ctx.addIssue({ code: 'custom', message: 'include_vars needs file (or the free form) or dir' });
    });

type Args = z.infer<ReturnType<typeof args>>;

interface Loaded {
  vars: Record<string, unknown>;
  files: string[];
  error?: string;
}

/** Ansible's _find_needle('vars', file): the role's vars/ and directory, then the playbook's. */
function findFile(file: string, baseDir: string, roleDir?: string): string | { error: string } {
  if (isAbsolute(file)) return existsSync(file) ? file : { error: `Could not find or access '${file}'` };
  const dirs = roleDir ? [roleDir, baseDir] : [baseDir];
  const candidates = dirs.flatMap((d) => [join(d, 'vars', file), join(d, file)]);
  const found = candidates.find((p) => existsSync(p));
  return found ?? { error: `Could not find or access '${file}'\nSearched in:\n\t${candidates.join('\n\t')}` };
}

/** Ansible's _set_root_dir: a role's vars/ (or the role itself for `vars/...`), else beside the playbook. */
function rootDir(dir: string, baseDir: string, roleDir?: string): string {
  if (isAbsolute(dir)) return dir;
  if (!roleDir) return join(baseDir, dir);
  if (dir.split('/')[0] === 'vars' && existsSync(join(roleDir, dir))) return join(roleDir, dir);
  return join(roleDir, 'vars', dir);
}

/** One file's mapping; a file that is not a mapping is the task's failure, as in _load_files. */
function loadFile(path: string): Record<string, unknown> | string {
  const data = loadYamlFile(path);
  if (data === null || data === undefined || data === '') return {};
  if (typeof data !== 'object' || Array.isArray(data)) return `${path} must be stored as a dictionary/hash`;
  return data as Record<string, unknown>;
}

/** Directories under root, sorted by path as os.walk's list sorted by root; each with its sorted file names. */
function walk(root: string, depth: number): { dir: string; files: string[] }[] {
  const out: { dir: string; files: string[] }[] = [];
  let count = 0;
  const visit = (dir: string) => {
    // depth 1 is the root itself (relative_to omits the root)
    const level = dir === root ? 1 : relative(root, dir).split(sep).length + 1;
    if (depth !== 0 && level > depth) return;
    const files: string[] = [];
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (++count > MAX_FILES) throw new PhxError(`include_vars: more than ${MAX_FILES} entries under ${root}`);
      const full = join(dir, e.name);
      const isDir = e.isDirectory() || (e.isSymbolicLink() && statSync(full, { throwIfNoEntry: false })?.isDirectory());
      if (isDir) visit(full);
      else files.push(e.name);
    }
    out.push({ dir, files: files.sort() });
  };
  visit(root);
  return out.sort((a, b) => (a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0));
}

function loadDir(a: Args, root: string, inRole: boolean): Loaded {
  const loaded: Loaded = { vars: {}, files: [] };
  if (!existsSync(root)) return { ...loaded, error: `${root} directory does not exist` };
  const matcher = a.files_matching !== undefined ? compileUserRegex(a.files_matching) : undefined;
  const ignore = (
    typeof a.ignore_files === 'string' ? a.ignore_files.split(/\s+/).filter(Boolean) : (a.ignore_files ?? [])
  ).map((p) => compileUserRegex(`(?:${p})$`));
  const extensions = a.extensions ?? DEFAULT_EXTENSIONS;
  for (const { dir, files } of walk(root, a.depth ?? 0)) {
    for (const name of files) {
      // a role's vars/main.yml is the role's own: never included again
      if (inRole && name === 'main.yml') continue;
      if (matcher && !matcher.matcher(name).find()) continue;
      if (ignore.some((re) => re.matcher(name).find())) continue;
      const path = join(dir, name);
      if (!extensions.includes(extname(name).slice(1))) {
        if (a.ignore_unknown_extensions) continue;
        return { ...loaded, error: `${path} does not have a valid extension: ${extensions.join(', ')}` };
      }
      const data = loadFile(path);
      if (typeof data === 'string') return { ...loaded, error: data };
      Object.assign(loaded.vars, data);
      loaded.files.push(path);
    }
  }
  return loaded;
}

function load(a: Args, baseDir: string, roleDir?: string): Loaded {
  if (a.dir !== undefined) return loadDir(a, rootDir(a.dir, baseDir, roleDir), roleDir !== undefined);
  const found = findFile((a.file ?? a._raw_params)!, baseDir, roleDir);
  if (typeof found !== 'string') return { vars: {}, files: [], error: found.error };
  const data = loadFile(found);
  if (typeof data === 'string') return { vars: {}, files: [], error: data };
  return { vars: data, files: [found] };
}

const isMapping = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;

/** Ansible's merge_hash (list_merge=replace): mappings merge key by key, anything else replaces. */
function mergeHash(old: unknown, value: unknown): unknown {
  if (!isMapping(old) || !isMapping(value)) return value;
  const out: Record<string, unknown> = { ...old };
  for (const [k, v] of Object.entries(value)) out[k] = mergeHash(out[k], v);
  return out;
}

export default defineModule<Args, Loaded>({
  name: 'include_vars',
  aliases: ['ansible.builtin.include_vars', 'ansible.legacy.include_vars'],
  description: 'Load variables from YAML or JSON files on the controller (runs on the controller)',
  args,
  // Ansible's _raw_params: `include_vars: x.yml name=y` and `include_vars: file=x.yml name=y` both work
  freeForm: '_raw_params',
  runsOn: 'controller',
  facts(ctx, a) {
    try {
      // a controller module's arguments keep what was unsafe (src/executor/task.ts moduleArgs); a file
      // name built from host output (`{{ ansible_os_family }}.yaml`) is data here: its text is the path
      return Promise.resolve(load(unwrapUnsafe(a), ctx.baseDir, ctx.roleDir));
    } catch (e) {
      // a broken file (YAML syntax, wrong vault password, a bad regex) is the task's failure, located
      const problems =
        e instanceof ValidationErrors ? e.errors : e instanceof PhxError || e instanceof EvalFailure ? [e] : undefined;
      if (!problems) throw e;
      const located = (p: Error) => (p instanceof PhxError && p.loc ? `${formatLoc(p.loc)}: ${p.message}` : p.message);
      return Promise.resolve({ vars: {}, files: [], error: problems.map(located).join('\n') });
    }
  },
  plan(f, a, p) {
    if (f.error !== undefined)
      // Ansible's include_vars says why in `message`; msg is what every reporter shows
      return { changes: [], fail: f.error, result: { message: f.error, ansible_included_var_files: f.files } };
    const name = a.name === undefined ? undefined : String(a.name);
    let vars: Record<string, unknown> = name !== undefined ? { [name]: f.vars } : f.vars;
    if (a.hash_behaviour === 'merge')
      vars = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, mergeHash(p.vars[k], v)]));
    return { changes: [], result: { ansible_facts: vars, ansible_included_var_files: f.files } };
  },
});
