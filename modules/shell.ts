// shell: runs a command line through /bin/sh (or `executable`), so pipes,
// redirections and `$VAR` work. Same options and result as command (inline
// `creates=...` in the free form is taken out by the playbook loader).
import * as z from 'zod';
import { defineModule } from '../src/module.js';
import { shellJoin } from '../src/quote.js';
import { commandOptionFields, commandSpec, commandSteps, type CommandSpec } from '../src/remote/run-command.js';

const args = () =>
  z
    .object({
      cmd: z.string().min(1).describe('the shell command line'),
      executable: z.string().optional().describe('shell to run it with (default /bin/sh)'),
      ...commandOptionFields,
    })
    .strict();

type Args = z.infer<ReturnType<typeof args>>;

/** Arguments → what to run: `<executable> -c <cmd>`, so chdir and the guard never mix with the user's text. */
function spec(a: Args): CommandSpec {
  return commandSpec(a.cmd, shellJoin([a.executable ?? '/bin/sh', '-c', a.cmd]), a);
}

export default defineModule({
  name: 'shell',
  aliases: ['ansible.builtin.shell', 'ansible.legacy.shell'],
  description: 'Run a command line through a shell on the host; creates/removes make it idempotent',
  args,
  freeForm: 'cmd',
  ...commandSteps(spec),
});
