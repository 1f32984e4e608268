// group: a local group, present (with its gid) or absent, with Ansible's
// arguments and results (lib/ansible/modules/group.py: groupadd [-g gid [-o]]
// [-r], groupmod -g when the gid differs, groupdel [-f]; result name, state,
// gid, system). Facts are one `getent group` of the name; names are validated
// so they cannot be read as options.
import * as z from 'zod';
import { defineModule, type Change, type ModuleContext, type Plan } from '../src/module.js';
import { applyChanges } from '../src/module-runner.js';
import { accountName, parseGroups, type GroupEntry } from '../src/remote/accounts.js';

const args = () =>
  z
    .object({
      name: accountName().describe('the group'),
      state: z.enum(['present', 'absent']).default('present'),
      gid: z.number().int().nonnegative().optional().describe('the group id (changed with groupmod when it differs)'),
      system: z.boolean().default(false).describe('a system group (groupadd -r), when created'),
      non_unique: z.boolean().default(false).describe('allow a gid another group has (needs gid)'),
      force: z.boolean().default(false).describe('groupdel -f: remove even when it is a user’s primary group'),
    })
    .strict()
    .superRefine((a, ctx) => {
      if (a.non_unique && a.gid === undefined)
        ctx.addIssue({ code: 'custom', path: ['non_unique'], message: 'non_unique needs gid' });
    });

type Args = z.infer<ReturnType<typeof args>>;

interface Facts {
  group?: GroupEntry;
}

export function planGroup(f: Facts, a: Args): Plan {
  const result: Record<string, unknown> = { name: a.name, state: a.state };
  const changes: Change[] = [];
  if (a.state === 'absent') {
    if (f.group)
      changes.push({ description: `groupdel ${a.name}`, argv: ['groupdel', ...(a.force ? ['-f'] : []), a.name] });
    return { changes, result };
  }
  const uniq = a.non_unique ? ['-o'] : [];
  if (!f.group) {
    const gidOpts = a.gid !== undefined ? ['-g', String(a.gid), ...uniq] : [];
    changes.push({
      description: `groupadd ${a.name}`,
      argv: ['groupadd', ...gidOpts, ...(a.system ? ['-r'] : []), a.name],
    });
  } else if (a.gid !== undefined && a.gid !== f.group.gid) {
    changes.push({
      description: `groupmod -g ${a.gid} ${a.name}`,
      argv: ['groupmod', '-g', String(a.gid), ...uniq, a.name],
    });
  }
  // a new group without gid: groupadd picks it; apply reads it back
  const gid = a.gid ?? f.group?.gid;
  return { changes, result: { ...result, ...(gid !== undefined ? { gid } : {}), system: a.system } };
}

async function readGroup(ctx: ModuleContext, name: string): Promise<Facts> {
  // getent exits 2 for a group that does not exist
  const r = await ctx.run(['getent', 'group', name], { okExit: [0, 2] });
  return { group: parseGroups(r.stdout).find((g) => g.name === name) };
}

export default defineModule<Args, Facts>({
  name: 'group',
  aliases: ['ansible.builtin.group', 'ansible.legacy.group'],
  description: 'A local group: present with its gid, or absent',
  args,
  facts: (ctx, a) => readGroup(ctx, a.name),
  plan: (f, a) => planGroup(f, a),
  async apply(ctx, plan, a) {
    await applyChanges(ctx, plan.changes);
    if (a.state === 'present' && a.gid === undefined) {
      const now = await readGroup(ctx, a.name);
      if (now.group) return { gid: now.group.gid };
    }
  },
  verify: true,
});
