// command: runs a program on the host without a shell (no pipes, no `$VAR`).
// The command line is split into words like Python's shlex (as Ansible does);
// `argv:` gives the words directly. Inline `creates=/x` options in the free
// form are taken out by the playbook loader before the schema sees them.
import { z } from 'zod';
import { defineModule } from '../src/module.js';
import { shellJoin } from '../src/quote.js';
import { commandApply, commandFacts, commandPlan, type CommandSpec } from '../src/remote/run-command.js';
import { shlexSplit } from '../src/remote/shlex.js';

const args = z
  .object({
    cmd: z.string().min(1).optional().describe('the command line, split like a shell would (no shell features)'),
    argv: z.array(z.string()).min(1).optional().describe('the command as a list of words'),
    creates: z.string().optional().describe('a path or glob: if it exists, the command is not run'),
    removes: z.string().optional().describe('a path or glob: if it does not exist, the command is not run'),
    chdir: z.string().optional().describe('directory to run in'),
    stdin: z.string().optional().describe('text fed to the command'),
    stdin_add_newline: z.boolean().default(true),
    strip_empty_ends: z.boolean().default(true),
    warn: z.boolean().optional().describe('accepted for compatibility; ignored'),
  })
  .strict()
  .refine((a) => (a.cmd === undefined) !== (a.argv === undefined), { message: 'command needs exactly one of: a command line (free form or cmd), argv' })
  .superRefine((a, ctx) => {
    if (a.cmd === undefined) return;
    try {
      if (shlexSplit(a.cmd).length === 0) ctx.addIssue({ code: 'custom', path: ['cmd'], message: 'no command given' });
    } catch (e) {
      ctx.addIssue({ code: 'custom', path: ['cmd'], message: `cannot split the command line: ${(e as Error).message}` });
    }
  });

type Args = z.infer<typeof args>;

/** Arguments → what to run (the schema already rejected unbalanced quotes). */
function spec(a: Args): CommandSpec {
  const argv = a.argv ?? shlexSplit(a.cmd!);
  return {
    cmd: argv,
    line: shellJoin(argv),
    chdir: a.chdir,
    creates: a.creates,
    removes: a.removes,
    stdin: a.stdin,
    stdinAddNewline: a.stdin_add_newline,
    stripEmptyEnds: a.strip_empty_ends,
  };
}

export default defineModule({
  name: 'command',
  aliases: ['ansible.builtin.command', 'ansible.legacy.command'],
  description: 'Run a command on the host (no shell); creates/removes make it idempotent',
  args,
  freeForm: 'cmd',
  facts: (ctx, a) => commandFacts(ctx, spec(a)),
  plan: (facts, a, p) => commandPlan(facts, spec(a), p.check),
  apply: (ctx, plan, a) => commandApply(ctx, plan, spec(a)),
});
