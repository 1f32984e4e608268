// shell: runs a command line through /bin/sh (or `executable`), so pipes,
// redirections and `$VAR` work. Same options and result as command.
import { z } from 'zod';
import { defineModule } from '../src/module.js';
import { shellJoin } from '../src/quote.js';
import { commandApply, commandFacts, commandPlan, type CommandSpec } from '../src/remote/run-command.js';
import { extractInlineOptions } from '../src/remote/shlex.js';

const args = z
  .object({
    cmd: z.string().min(1).describe('the shell command line'),
    executable: z.string().optional().describe('shell to run it with (default /bin/sh)'),
    creates: z.string().optional().describe('a path or glob: if it exists, the command is not run'),
    removes: z.string().optional().describe('a path or glob: if it does not exist, the command is not run'),
    chdir: z.string().optional().describe('directory to run in'),
    stdin: z.string().optional().describe('text fed to the command'),
    stdin_add_newline: z.boolean().default(true),
    strip_empty_ends: z.boolean().default(true),
    warn: z.boolean().optional().describe('accepted for compatibility; ignored'),
  })
  .strict();

type Args = z.infer<typeof args>;

const INLINE = ['creates', 'removes', 'chdir', 'executable', 'stdin', 'stdin_add_newline', 'strip_empty_ends', 'warn'] as const;

function spec(a: Args): CommandSpec {
  const { rest, options: inline } = extractInlineOptions(a.cmd, INLINE);
  const flag = (v: string | undefined, d: boolean) => (v === undefined ? d : !/^(no|false|0|off)$/i.test(v));
  return {
    cmd: rest,
    line: shellJoin([a.executable ?? inline.executable ?? '/bin/sh', '-c', rest]),
    chdir: a.chdir ?? inline.chdir,
    creates: a.creates ?? inline.creates,
    removes: a.removes ?? inline.removes,
    stdin: a.stdin ?? inline.stdin,
    stdinAddNewline: flag(inline.stdin_add_newline, a.stdin_add_newline),
    stripEmptyEnds: flag(inline.strip_empty_ends, a.strip_empty_ends),
  };
}

export default defineModule({
  name: 'shell',
  aliases: ['ansible.builtin.shell', 'ansible.legacy.shell'],
  description: 'Run a command line through a shell on the host; creates/removes make it idempotent',
  args,
  freeForm: 'cmd',
  facts: (ctx, a) => commandFacts(ctx, spec(a)),
  plan: (facts, a, p) => commandPlan(facts, spec(a), p.check),
  apply: (ctx, plan, a) => commandApply(ctx, plan, spec(a)),
});
