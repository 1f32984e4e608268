// ping: proves that phx-play can run a command on the host, with Ansible's
// arguments and result (lib/ansible/modules/ping.py: `ping: <data>`, default
// 'pong'; data 'crash' fails on purpose). One round trip: `true` on the host.
import * as z from 'zod';
import { defineModule, ModuleError } from '../src/module.js';

const args = () =>
  z
    .object({
      data: z.string().default('pong').describe("returned as `ping`; 'crash' makes the task fail"),
    })
    .strict();

type Args = z.infer<ReturnType<typeof args>>;

export default defineModule<Args, Record<string, never>>({
  name: 'ping',
  aliases: ['ansible.builtin.ping', 'ansible.legacy.ping'],
  description: 'Check that commands run on the host; returns ping: pong',
  args,
  async facts(ctx, a) {
    await ctx.run(['true']);
    if (a.data === 'crash') throw new ModuleError('boom');
    return {};
  },
  plan: (_f, a) => ({ changes: [], result: { ping: a.data } }),
});
