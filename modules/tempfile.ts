// tempfile: a new temporary file or directory on the host, with Ansible's
// arguments and result (lib/ansible/modules/tempfile.py: mkstemp/mkdtemp in
// `path` or the host's temp dir, named prefix + random + suffix; always
// changed; result `path`). Made with mktemp (0600 files, 0700 directories).
// Check mode makes nothing (Ansible's module would): `path` is then ''.
import * as z from 'zod';
import { defineModule, type Plan } from '../src/module.js';
import { lineProblem } from '../src/encode/line.js';

const args = () => {
  /** A part of a file name: no `/`, no line break; mktemp would refuse an X-less template with a suffix holding X. */
  const namePart = z.string().refine((v) => !v.includes('/') && !lineProblem(v), {
    message: 'a part of a file name: no `/`, line break or NUL',
  });
  return z
    .object({
      state: z.enum(['file', 'directory']).default('file'),
      path: z
        .string()
        .refine((v) => v.startsWith('/') && !lineProblem(v), { message: 'path is an absolute directory' })
        .optional()
        .describe('directory to create it in (default: the host’s $TMPDIR or /tmp)'),
      prefix: namePart.default('ansible.'),
      suffix: namePart.default(''),
    })
    .strict();
};

type Args = z.infer<ReturnType<typeof args>>;

export function mktempArgv(a: Args): string[] {
  return [
    'mktemp',
    ...(a.state === 'directory' ? ['-d'] : []),
    a.path !== undefined ? `--tmpdir=${a.path}` : '--tmpdir',
    ...(a.suffix ? [`--suffix=${a.suffix}`] : []),
    '--',
    `${a.prefix}XXXXXXXXXX`,
  ];
}

export default defineModule<Args, Record<string, never>>({
  name: 'tempfile',
  aliases: ['ansible.builtin.tempfile', 'ansible.legacy.tempfile'],
  description: 'Create a temporary file or directory on the host',
  args,
  facts: () => Promise.resolve({}),
  plan: (_f, a): Plan => ({
    changes: [{ description: `create a temporary ${a.state}`, argv: mktempArgv(a) }],
    result: { path: '', state: a.state },
  }),
  async apply(ctx, plan) {
    const r = await ctx.run(plan.changes[0].argv!);
    const path = r.stdout.replace(/\n$/, '');
    return { path };
  },
});
