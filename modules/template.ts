// template: renders a template file (Ansible's Jinja syntax and Handlebars,
// src/template/README.md) on the controller with the host's
// variables, then puts the text on the host exactly like copy (SHA1 compare,
// owner/group/mode, backup, validate; two round trips).
import { readFileSync, statSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { basename, isAbsolute, join } from 'node:path';
import * as z from 'zod';
import { formatLoc, PhxError } from '../src/errors.js';
import { defineModule, type ModuleContext } from '../src/module.js';
import { overlayPutFacts, putArgShape, putFacts, putPlan, type PutFacts } from '../src/remote/put-content.js';
import { renderString } from '../src/template/index.js';

const args = () =>
  z
    .object({
      src: z
        .string()
        .min(1)
        .describe('template file on the controller, relative to the playbook (or its templates/ directory)'),
      ...putArgShape(),
      // Ansible's template action accepts the escaped forms too ('\r\n' in single-quoted YAML is 4 characters)
      newline_sequence: z
        .enum(['\n', '\r\n', '\r', '\\n', '\\r\\n', '\\r'])
        .default('\n')
        .transform((v) => v.replaceAll('\\n', '\n').replaceAll('\\r', '\r'))
        .describe("line endings of the result: '\\n' (default), '\\r\\n' or '\\r', escaped or not"),
      trim_blocks: z
        .boolean()
        .optional()
        .describe("Jinja's trim_blocks: the newline after a {% %} or {# #} tag goes (default true, as Ansible)"),
      lstrip_blocks: z
        .boolean()
        .optional()
        .describe("Jinja's lstrip_blocks: spaces and tabs before a tag that starts its line go (default false)"),
    })
    .strict();

type Args = z.infer<ReturnType<typeof args>>;

interface Rendered {
  content: Buffer;
  mode: number;
}

/** Ansible looks for a relative src in templates/ beside the playbook, then beside it. */
function render(a: Args, ctx: ModuleContext): Rendered {
  const dirs = ctx.roleDir ? [ctx.roleDir, ctx.baseDir] : [ctx.baseDir];
  // a role's task: the role's templates/ and the role itself first (Ansible's search path), then the playbook's
  const candidates = isAbsolute(a.src) ? [a.src] : dirs.flatMap((d) => [join(d, 'templates', a.src), join(d, a.src)]);
  const file = candidates.find((p) => {
    try {
      return statSync(p).isFile();
    } catch {
      return false;
    }
  });
  if (!file) throw new PhxError(`template: could not find src ${a.src} (looked in ${candidates.join(', ')})`);
  const text = renderString(readFileSync(file, 'utf8'), withTemplateVars(ctx.vars, templateVars(a, file, ctx.vars)), {
    loc: { file, line: 1, col: 1 },
    baseDir: ctx.baseDir,
    ...(ctx.roleDir ? { roleDir: ctx.roleDir } : {}),
    jinja: { trimBlocks: a.trim_blocks, lstripBlocks: a.lstrip_blocks },
  });
  const content = a.newline_sequence === '\n' ? text : text.replace(/\r?\n/g, a.newline_sequence);
  return { content: Buffer.from(content, 'utf8'), mode: statSync(file).mode & 0o7777 };
}

/** The task's vars plus the template's own; keeps getters such as hostvars (a spread would drop them). */
function withTemplateVars(
  vars: Readonly<Record<string, unknown>>,
  own: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  Object.defineProperties(out, Object.getOwnPropertyDescriptors(vars));
  return Object.assign(out, own);
}

/**
 * What Ansible defines in every template (generate_ansible_template_vars in lib/ansible/template/__init__.py):
 * template_host is the controller's name, template_path the src as written, ansible_managed its
 * DEFAULT_MANAGED_STR ("Ansible managed") unless the vars set one. No template_run_date/template_mtime:
 * a date in the content would change the file on every run.
 */
function templateVars(a: Args, file: string, vars: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const uid = statSync(file).uid;
  let owner = String(uid);
  try {
    if (userInfo().uid === uid) owner = userInfo().username;
  } catch {
    // no passwd entry: the number, as Ansible
  }
  return {
    template_host: hostname(),
    template_path: a.src,
    template_fullpath: file,
    template_destpath: a.dest,
    template_uid: owner,
    ansible_managed: Object.prototype.hasOwnProperty.call(vars, 'ansible_managed')
      ? vars.ansible_managed
      : 'Ansible managed',
  };
}

/** A missing template or an undefined variable is this task's failure, not a crash of the run. */
type Facts = { put: PutFacts; rendered: Rendered } | { error: string };

export default defineModule<Args, Facts>({
  name: 'template',
  aliases: ['ansible.builtin.template', 'ansible.legacy.template'],
  pathArgs: ['dest'],
  description:
    'Render a template (Ansible/Jinja or Handlebars syntax) with the host vars and put it on the host, with owner, group and mode',
  args,
  async facts(ctx, a): Promise<Facts> {
    let rendered: Rendered;
    try {
      rendered = render(a, ctx);
    } catch (e) {
      if (e instanceof PhxError) return { error: e.loc ? `${formatLoc(e.loc)}: ${e.message}` : e.message };
      throw e;
    }
    return {
      rendered,
      put: await putFacts(ctx, { dest: a.dest, name: basename(a.src), owner: a.owner, group: a.group, diff: ctx.diff }),
    };
  },
  overlay: (f, _a, predicted) => ('error' in f ? f : { ...f, put: overlayPutFacts(f.put, predicted) }),
  plan: (f, a) =>
    'error' in f
      ? { changes: [], fail: f.error, result: { dest: a.dest } }
      : putPlan(f.put, {
          dest: a.dest,
          name: basename(a.src),
          owner: a.owner,
          group: a.group,
          diff: true,
          content: f.rendered.content,
          mode: a.mode,
          srcMode: f.rendered.mode,
          backup: a.backup,
          force: a.force,
          validate: a.validate,
          result: { src: a.src },
        }),
});
