// Ansible's search path for a lookup's file (Task.get_search_path, DataLoader.path_dwim_relative_stack):
// the role's directory, then the playbook's; in each the lookup's subdir (files/, templates/, vars/)
// first, then the directory itself.
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

export interface SearchDirs {
  baseDir?: string;
  roleDir?: string;
}

/** The places `name` is looked for, in order (path_dwim_relative_stack skips the subdir the name already starts with). */
export function searchCandidates(name: string, dirs: SearchDirs, subdir: string): string[] {
  if (isAbsolute(name)) return [name];
  const roots = [...(dirs.roleDir ? [dirs.roleDir] : []), dirs.baseDir ?? process.cwd()];
  const withSubdir = name.split('/')[0] !== subdir;
  return roots.flatMap((d) => [...(withSubdir ? [resolve(d, subdir, name)] : []), resolve(d, name)]);
}

/** The first place `name` exists (a controller path), or undefined. */
export function findInSearchPath(name: string, dirs: SearchDirs, subdir: string): string | undefined {
  return searchCandidates(name, dirs, subdir).find((p) => existsSync(p));
}
