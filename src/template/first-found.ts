// The first_found lookup of ansible-core 2.14 (lib/ansible/plugins/lookup/first_found.py at v2.14.0,
// LookupModule._process_terms and run): terms are file names, or mappings {files, paths, skip}; the first name that
// exists where the task's lookups search (LookupBase.find_file_in_search_path) is the result.
import { findInSearchPath, type SearchDirs } from './search-path.js';
import { isMapping, toBool } from './values.js';
import { UnsafeText, plain } from '../unsafe.js';

export const NOTHING_FOUND = 'No file was found when using first_found.';

/** A term whose template reads an undefined variable: passed over (the lookup's `continue`). */
export const UNDEFINED = Symbol('undefined term');
type Rendered = unknown;

/** TaskExecutor._get_loop_items: 'templates', 'vars' or 'files', the first whose singular the action contains. */
export function lookupSubdir(action: string): string {
  for (const s of ['template', 'var', 'file']) if (action.includes(s)) return `${s}s`;
  return 'files';
}

/**
 * The found path as a list of one, [] when nothing is found and `skip: true`, undefined when
 * nothing is found (the caller raises NOTHING_FOUND). `render` renders a part of a term (the loop's
 * terms are still templates; a lookup's are values).
 */
export function firstFound(
  value: unknown,
  render: (v: unknown) => Rendered,
  dirs: SearchDirs,
  subdir: string,
): unknown[] | undefined {
  const terms = expand(value, render);
  const invalid = terms.find((t) => t !== UNDEFINED && !isMapping(t) && typeof plain(t) !== 'string');
  if (invalid !== undefined || terms.includes(null))
    throw new InvalidTerm(
      `Invalid term supplied, can handle string, mapping or list of strings but got: ${pythonType(invalid ?? null)}`,
    );
  let names: Rendered[] = [];
  let skip = false;
  if (terms.some(isMapping)) {
    for (const term of terms) {
      if (!isMapping(term)) {
        names.push(term);
        skip = false; // a name term sets the options from the lookup's keywords: skip is false again
        continue;
      }
      const files = splitTerm(render(term.files ?? []), /[,;]/);
      const paths = splitTerm(render(term.paths ?? []), /[,:;]/);
      skip = toBool(plain(render(term.skip ?? false)));
      // as first_found.py: a mapping without paths replaces the names gathered so far
      if (paths.length === 0) names = files;
      else for (const p of paths) for (const f of files) names.push(joined(p, f));
    }
  } else names = terms;
  for (const name of names) {
    if (name === UNDEFINED || name === null || name === undefined) continue;
    const text = String(plain(name));
    if (text === '') continue; // (first_found.py would search '' and find a directory: never a file to read)
    const found = findInSearchPath(text, dirs, subdir);
    // a name a host chose stays data: its path is never a template
    if (found !== undefined) return [name instanceof UnsafeText ? new UnsafeText(found) : found];
  }
  return skip ? [] : undefined;
}

/** A term first_found cannot read (_process_terms raises AnsibleLookupError for it). */
export class InvalidTerm extends Error {}

/** The Python type and repr of a YAML scalar, as the lookup's message shows it. */
function pythonType(v: unknown): string {
  if (v === null || v === undefined) return "<class 'NoneType'> for None";
  if (typeof v === 'boolean') return `<class 'bool'> for ${v ? 'True' : 'False'}`;
  if (typeof v === 'number') return `<class '${Number.isInteger(v) ? 'int' : 'float'}'> for ${v}`;
  return `<class '${typeof v}'>`;
}

/** The terms, each rendered on its own, lists flattened (LookupBase._flatten); mappings kept for their keys. */
function expand(value: unknown, render: (v: unknown) => Rendered): Rendered[] {
  if (Array.isArray(value)) return value.flatMap((v) => expand(v, render));
  if (isMapping(value)) return [value];
  const r = render(value);
  return Array.isArray(r) ? flattenData(r) : [r];
}

/** Rendered values are data: flattened, never rendered again. */
function flattenData(list: unknown[]): unknown[] {
  return list.flatMap((v) => (Array.isArray(v) ? flattenData(v) : [v]));
}

/** `files` / `paths`: a list as it is, a string split on its separators. */
function splitTerm(value: Rendered, separators: RegExp): Rendered[] {
  if (value === UNDEFINED) return [UNDEFINED];
  if (Array.isArray(value)) return flattenData(value);
  const text = plain(value);
  if (typeof text !== 'string') return value === null || value === undefined ? [] : [value];
  const unsafe = value instanceof UnsafeText;
  return text.split(separators).map((s) => (unsafe ? new UnsafeText(s) : s));
}

/** os.path.join(path, fn): an absolute fn wins. */
function joined(path: Rendered, fn: Rendered): Rendered {
  if (path === UNDEFINED || fn === UNDEFINED) return UNDEFINED;
  const p = String(plain(path));
  const f = String(plain(fn));
  const out = f.startsWith('/') || p === '' ? f : p.endsWith('/') ? p + f : `${p}/${f}`;
  return path instanceof UnsafeText || fn instanceof UnsafeText ? new UnsafeText(out) : out;
}
