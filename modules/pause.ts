// pause: waits some seconds or minutes, or asks a question, on the controller, with Ansible's
// result (lib/ansible/plugins/action/pause.py: start, stop, delta, stdout "Paused for N
// seconds"/"… minutes", user_input, echo). It waits in check mode too, as Ansible's does, and
// runs once per batch (BYPASS_HOST_LOOP). With seconds or minutes nothing is read (Ansible
// neither captures nor echoes input then). A prompt without them reads one line only when
// stdin is a terminal; otherwise it does not wait, with Ansible's warning: a run never hangs.
import * as z from 'zod';
import { defineModule, type ModuleContext } from '../src/module.js';
import { sleep } from '../src/sleep.js';
import { readTerminalLine, stdinIsTerminal } from '../src/terminal-line.js';

const args = () =>
  z
    .object({
      seconds: z.number().min(0).max(86400).optional(),
      minutes: z.number().min(0).max(1440).optional(),
      prompt: z
        .string()
        .optional()
        .describe('the question; without seconds/minutes one line is read from the terminal'),
      echo: z.boolean().default(true).describe('show what is typed at the prompt (only without seconds/minutes)'),
    })
    .strict()
    .refine((a) => a.seconds === undefined || a.minutes === undefined, {
      path: ['minutes'],
      message: 'seconds and minutes are mutually exclusive',
    });

type Args = z.infer<ReturnType<typeof args>>;

interface Facts {
  start: Date;
  stop: Date;
  interrupted: boolean;
  userInput: string;
  /** a prompt that was not asked: stdin is not a terminal */
  notAsked: boolean;
}

const NOT_INTERACTIVE = 'Not waiting for response to prompt as stdin is not interactive';

const stamp = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');

/** Python's str() of round(x, 2): 0.0, 0.05, 2.0 */
const pyFloat = (x: number) => {
  const r = Math.round(x * 100) / 100;
  return Number.isInteger(r) ? r.toFixed(1) : String(r);
};

async function wait(ctx: ModuleContext, a: Args): Promise<Pick<Facts, 'userInput' | 'notAsked'>> {
  if (a.seconds !== undefined || a.minutes !== undefined) {
    await sleep((a.seconds ?? (a.minutes ?? 0) * 60) * 1000, ctx.signal);
    return { userInput: '', notAsked: false };
  }
  if (!stdinIsTerminal()) return { userInput: '', notAsked: true };
  const question = a.prompt !== undefined ? `${a.prompt}:` : 'Press enter to continue, Ctrl+C to interrupt:';
  return {
    userInput: await readTerminalLine({ prompt: `${question} `, echo: a.echo, signal: ctx.signal }),
    notAsked: false,
  };
}

export default defineModule<Args, Facts>({
  name: 'pause',
  aliases: ['ansible.builtin.pause', 'ansible.legacy.pause'],
  description: 'Wait some seconds or minutes, or ask a question on the terminal (on the controller)',
  args,
  runsOn: 'controller',
  bypassHostLoop: true,
  // the wait is the whole module, and it must happen in check mode too: facts run in both
  async facts(ctx, a) {
    const start = new Date();
    const got = await wait(ctx, a);
    return { start, stop: new Date(), interrupted: ctx.signal.aborted, ...got };
  },
  plan(f, a) {
    const elapsed = (f.stop.getTime() - f.start.getTime()) / 1000;
    const stdout =
      a.minutes !== undefined
        ? `Paused for ${a.minutes} minutes`
        : a.seconds !== undefined
          ? `Paused for ${a.seconds} seconds`
          : `Paused for ${pyFloat(elapsed / 60)} minutes`;
    return {
      changes: [],
      ...(f.interrupted ? { fail: 'pause interrupted' } : {}),
      result: {
        start: stamp(f.start),
        stop: stamp(f.stop),
        delta: Math.round(elapsed),
        stdout,
        user_input: f.userInput,
        echo: a.echo,
        rc: 0,
        stderr: '',
        ...(f.notAsked ? { warnings: [NOT_INTERACTIVE] } : {}),
      },
    };
  },
});
