// Arguments the line/block/replace editors share, as Ansible's lineinfile, blockinfile
// and replace name them: the file as `path` or one of its aliases, and user regexes
// (RE2: src/template/regex.ts) checked when the playbook is validated.
import * as z from 'zod';
import { compileUserRegex } from '../template/regex.js';

/** `path` and its aliases `dest`, `destfile`, `name` (exactly one is given: see requireOnePath). */
export const pathAliasArgs = {
  path: z.string().min(1).optional().describe('file to edit (aliases: dest, destfile, name)'),
  dest: z.string().min(1).optional(),
  destfile: z.string().min(1).optional(),
  name: z.string().min(1).optional(),
};

/** the names of the edited file, all expanded on the host (`~/.profile`) as Ansible's type='path' */
export const PATH_ALIASES = ['path', 'dest', 'destfile', 'name'] as const;

export interface PathAliases {
  path?: string;
  dest?: string;
  destfile?: string;
  name?: string;
}

/** The issue when not exactly one of path, dest, destfile, name is given. */
export function requireOnePath(a: PathAliases, ctx: z.RefinementCtx): void {
  const given = [a.path, a.dest, a.destfile, a.name].filter((p) => p !== undefined).length;
  if (given !== 1)
    ctx.addIssue({
      code: 'custom',
      path: ['path'],
      message: given ? 'give only one of path, dest, destfile, name (they are aliases)' : 'path is required',
    });
}

/** The file the task names, whichever alias it used. */
export function editedPath(a: PathAliases): string {
  return (a.path ?? a.dest ?? a.destfile ?? a.name)!;
}

/** A user regex, compiled at validation so a bad one is a located error; `keywords` pass as they are (EOF, BOF). */
export function userRegexArg(keywords: readonly string[] = []) {
  return z.string().superRefine((v, ctx) => {
    if (keywords.includes(v)) return;
    try {
      compileUserRegex(v);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
    }
  });
}
