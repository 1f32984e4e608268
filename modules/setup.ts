// setup: gathers the host's facts (ansible_hostname, ansible_distribution,
// ansible_default_ipv4, ansible_mounts, ... and `pve` on a Proxmox VE host) in
// one round trip; what a play's gather_facts runs. Read-only, also in check mode.
import * as z from 'zod';
import { defineModule } from '../src/module.js';
import { collectFacts, filterFacts, resolveSubsets } from '../src/facts/collect.js';

const asList = (v: string | string[] | undefined, dflt: string[]) =>
  v === undefined ? dflt : (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter((s) => s !== '');

const args = () => {
  const stringOrList = z.union([z.string(), z.array(z.string())]);
  return z
    .object({
      gather_subset: stringOrList
        .optional()
        .describe(
          "subsets to gather: all (default), min, platform, distribution, hardware, network, pve, …; '!name' leaves one out",
        ),
      filter: stringOrList
        .optional()
        .describe("only the facts whose names match these shell patterns (e.g. 'ansible_eth*')"),
      gather_timeout: z
        .number()
        .int()
        .positive()
        .optional()
        .describe('accepted for compatibility (each slow read is bounded to 10 s)'),
      fact_path: z.string().optional().describe('accepted for compatibility; local facts (ansible_local) are not read'),
    })
    .strict();
};

type Args = z.infer<ReturnType<typeof args>>;

export default defineModule<Args, Record<string, unknown>>({
  name: 'setup',
  aliases: ['ansible.builtin.setup', 'ansible.legacy.setup'],
  description: "Gather the host's facts (Ansible's names, one round trip)",
  args,
  async facts(ctx, a) {
    const subset = asList(a.gather_subset, ['all']);
    const facts = filterFacts(await collectFacts(ctx, resolveSubsets(subset)), asList(a.filter, []));
    const prefixed: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(facts)) prefixed[`ansible_${k}`] = v;
    return { ...prefixed, gather_subset: subset, module_setup: true };
  },
  plan: (facts) => ({ changes: [], result: { ansible_facts: facts } }),
});
