// pause: waits some seconds or minutes on the controller, with Ansible's
// result (lib/ansible/plugins/action/pause.py: start, stop, delta, stdout
// "Paused for N seconds"/"… minutes", user_input ''). It waits in check mode
// too, as Ansible's does. An interactive `prompt` is refused: a run's terminal
// belongs to its progress view.
import * as z from 'zod';
import { defineModule } from '../src/module.js';
import { sleep } from '../src/sleep.js';

const args = z
  .object({
    seconds: z.number().min(0).max(86400).optional(),
    minutes: z.number().min(0).max(1440).optional(),
    prompt: z.string().optional().describe('refused: phx-play does not read a terminal during a run'),
    echo: z.boolean().default(true).describe('accepted for compatibility (with prompt only)'),
  })
  .strict()
  .superRefine((a, ctx) => {
    if (a.seconds !== undefined && a.minutes !== undefined)
      ctx.addIssue({ code: 'custom', path: ['minutes'], message: 'seconds and minutes are mutually exclusive' });
    if (a.prompt !== undefined || (a.seconds === undefined && a.minutes === undefined))
      ctx.addIssue({
        code: 'custom',
        path: ['prompt'],
        message:
          'pause needs seconds or minutes: waiting for a key or reading a prompt is not supported (a run’s terminal shows its progress, and a run without one has no one to ask)',
      });
  });

type Args = z.infer<typeof args>;

interface Facts {
  start: Date;
  stop: Date;
  interrupted: boolean;
}

const stamp = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');

export default defineModule<Args, Facts>({
  name: 'pause',
  aliases: ['ansible.builtin.pause', 'ansible.legacy.pause'],
  description: 'Wait some seconds or minutes (on the controller)',
  args,
  runsOn: 'controller',
  // the wait is the whole module, and it must happen in check mode too: facts run in both
  async facts(ctx, a) {
    const start = new Date();
    await sleep((a.seconds ?? (a.minutes ?? 0) * 60) * 1000, ctx.signal);
    return { start, stop: new Date(), interrupted: ctx.signal.aborted };
  },
  plan(f, a) {
    const stdout = a.minutes !== undefined ? `Paused for ${a.minutes} minutes` : `Paused for ${a.seconds} seconds`;
    return {
      changes: [],
      ...(f.interrupted ? { fail: 'pause interrupted' } : {}),
      result: {
        start: stamp(f.start),
        stop: stamp(f.stop),
        delta: Math.round((f.stop.getTime() - f.start.getTime()) / 1000),
        stdout,
        user_input: '',
        echo: a.echo,
        rc: 0,
        stderr: '',
      },
    };
  },
});
