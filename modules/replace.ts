// replace: every match of a regex in a file replaced, with Ansible's semantics
// (lib/ansible/modules/replace.py): the pattern is MULTILINE, `after` /
// `before` narrow the text to the section between their first matches (DOTALL),
// the replacement is a Python re.sub template (\1, \g<name>, \n). Patterns run
// on RE2 (linear time on the host's file). Read in the facts round trip,
// written like copy (one more).
import * as z from 'zod';
import { defineModule, type Plan } from '../src/module.js';
import { modeArg } from '../src/remote/mode.js';
import { accountArg } from '../src/remote/owner.js';
import { overlayPutFacts, putFacts, type PutFacts } from '../src/remote/put-content.js';
import { currentText, planTextEdit } from '../src/remote/text-edit.js';
import { compileUserRegex } from '../src/template/regex.js';
import { editedPath, PATH_ALIASES, pathAliasArgs, requireOnePath, userRegexArg } from '../src/remote/edit-args.js';

const args = () => {
  const regexArg = userRegexArg();
  return z
    .object({
      ...pathAliasArgs,
      regexp: regexArg.describe('Python-style regex, MULTILINE: every match is replaced'),
      replace: z.string().default('').describe('replacement: \\1, \\g<1>, \\g<name>, \\n …; empty removes the matches'),
      after: regexArg.optional().describe('only the text after the first match of this regex'),
      before: regexArg.optional().describe('only the text before the first match of this regex'),
      backup: z.boolean().default(false),
      validate: z.string().includes('%s', { message: 'validate must contain %s (the temp file to check)' }).optional(),
      encoding: z.enum(['utf-8', 'utf8', 'UTF-8', 'UTF8']).default('utf-8').describe('only utf-8 is supported'),
      owner: accountArg.optional(),
      group: accountArg.optional(),
      mode: modeArg.optional(),
      unsafe_writes: z.boolean().optional().describe('accepted for compatibility; ignored'),
    })
    .strict()
    .superRefine((a, ctx) => {
      requireOnePath(a, ctx);
    });
};

type Args = z.infer<ReturnType<typeof args>>;

const pathOf = (a: Args) => editedPath(a);

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', f: '\f', v: '\v', a: '\x07', '\\': '\\' };

/** The section regex Ansible builds from after/before (None when neither is given). */
export function sectionPattern(a: Pick<Args, 'after' | 'before'>): string | undefined {
  if (a.after && a.before) return `${a.after}(?P<subsection>.*?)${a.before}`;
  if (a.after) return `${a.after}(?P<subsection>.*)`;
  if (a.before) return `(?P<subsection>.*)${a.before}`;
  return undefined;
}

/** Python's re.subn(MULTILINE) on RE2: the new text and the number of matches. */
export function substitute(text: string, pattern: string, template: string): { text: string; count: number } {
  const m = compileUserRegex(pattern, { multiline: true }).matcher(text);
  let out = '';
  let last = 0;
  let count = 0;
  while (m.find()) {
    count++;
    out += text.slice(last, m.start());
    out += template.replace(
      /\\(?:(\d{1,2})|g<(\w+)>|(.))/gs,
      (whole: string, num?: string, group?: string, esc?: string) => {
        if (esc !== undefined) {
          if (esc in ESCAPES) return ESCAPES[esc];
          if (/[A-Za-z]/.test(esc)) throw new Error(`bad escape ${whole} in replace`);
          return whole;
        }
        const key = group ?? num!;
        try {
          return m.group(/^\d+$/.test(key) ? Number(key) : key) ?? '';
        } catch {
          throw new Error(`replace refers to ${whole}, a group regexp does not have`);
        }
      },
    );
    last = m.end();
  }
  return { text: out + text.slice(last), count };
}

/** The edit, pure: text in → text out and Ansible's message, or why it cannot be made. */
export function editText(
  contents: string,
  a: Args,
): { after: string; msg: string; noSection?: true } | { error: string } {
  const pattern = sectionPattern(a);
  let start = 0;
  let end = contents.length;
  if (pattern !== undefined) {
    const m = compileUserRegex(`(?s)${pattern}`).matcher(contents);
    if (!m.find())
      return {
        after: contents,
        msg: `Pattern for before/after params did not match the given file: ${pattern}`,
        noSection: true,
      };
    start = m.start('subsection');
    end = m.end('subsection');
  }
  const section = contents.slice(start, end);
  let sub: { text: string; count: number };
  try {
    sub = substitute(section, a.regexp, a.replace);
  } catch (e) {
    return { error: `Unable to process replace due to error: ${(e as Error).message}` };
  }
  if (sub.count === 0 || sub.text === section) return { after: contents, msg: '' };
  return {
    after: contents.slice(0, start) + sub.text + contents.slice(end),
    msg: `${sub.count} replacements made`,
  };
}

export default defineModule<Args, PutFacts>({
  name: 'replace',
  aliases: ['ansible.builtin.replace', 'ansible.legacy.replace'],
  pathArgs: PATH_ALIASES,
  description: 'Replace every match of a regex in a file',
  args,
  facts: (ctx, a) =>
    putFacts(ctx, { dest: pathOf(a), owner: a.owner, group: a.group, diff: ctx.diff, readContent: true }),
  overlay: (f, _a, predicted) => overlayPutFacts(f, predicted),
  plan(f, a): Plan {
    const path = pathOf(a);
    const cur = currentText(f, path);
    if (cur && 'fail' in cur) return { changes: [], fail: cur.fail, result: cur.rc ? { rc: cur.rc } : {} };
    if (!cur) return { changes: [], fail: `Path ${path} does not exist !`, result: { rc: 257 } };
    const edit = editText(cur.text, a);
    if ('error' in edit) return { changes: [], fail: edit.error };
    // Ansible exits here, attributes untouched
    if (edit.noSection) return { changes: [], msg: edit.msg, result: { rc: 0 } };
    const plan = planTextEdit(f, {
      path,
      before: cur.text,
      after: edit.after,
      editMsg: edit.msg,
      owner: a.owner,
      group: a.group,
      mode: a.mode,
      backup: a.backup,
      validate: a.validate,
      create: false,
    });
    if (plan.fail) return plan;
    return { ...plan, result: { rc: 0, ...plan.result } };
  },
});
