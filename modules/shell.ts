// shell: runs a command line through /bin/sh (or `executable`), so pipes,
// redirections and `$VAR` work. Same options and result as command (inline
// `creates=...` in the free form is taken out by the playbook loader).
import { z } from 'zod';
import { defineModule } from '../src/module.js';
import { shellJoin } from '../src/quote.js';
import { commandApply, commandFacts, commandPlan, type CommandSpec } from '../src/remote/run-command.js';

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

/** Arguments → what to run: `<executable> -c <cmd>`, so chdir and the guard never mix with the user's text. */
function spec(a: Args): CommandSpec {
  return {
    cmd: a.cmd,
    line: shellJoin([a.executable ?? '/bin/sh', '-c', a.cmd]),
    chdir: a.chdir,
    creates: a.creates,
    removes: a.removes,
    stdin: a.stdin,
    stdinAddNewline: a.stdin_add_newline,
    stripEmptyEnds: a.strip_empty_ends,
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
