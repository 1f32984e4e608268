// `lxc-attach -n <name> [--] <command…>` on a lab hypervisor: what `pct exec` execs
// (pve-container src/PVE/CLI/pct.pm, method exec: `exec('lxc-attach', '-n', $vmid,
// '--', @{$param->{'extra-args'}})`), a C program of lxc, not a Proxmox Perl tool.
// The command runs in the CT exactly as the lab's `pct exec` runs it (lab/sim/pct.ts
// lxcAttach). Options are read like lxc's getopt_long (src/lxc/tools/lxc_attach.c,
// arguments.c): `-n NAME`, `-nNAME`, `--name NAME`, `--name=NAME`; the command is what
// follows `--` (or the first operand). The lab simulates no other option, nor the
// shell lxc-attach starts without a command: those are refused rather than ignored.
import { SimError } from './env.js';
import { lxcAttach } from './pct.js';

export async function lxcAttachTool(args: string[]): Promise<number> {
  let name: string | undefined;
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      i++;
      break;
    }
    if (a === '-n' || a === '--name') {
      if (i + 1 >= args.length)
        throw new SimError(`lxc-attach: option requires an argument -- '${a.replace(/^-+/, '')}'`, 1);
      name = args[++i];
    } else if (a.startsWith('--name=')) name = a.slice('--name='.length);
    else if (/^-n./.test(a)) name = a.slice(2);
    else if (a.startsWith('-')) throw new SimError(`lxc-attach: phx-lab does not simulate the option '${a}'`, 1);
    else break;
  }
  // arguments.c: lxc_arguments_parse's check for a name
  if (name === undefined || name === '') throw new SimError('lxc-attach: missing container name, use --name option', 1);
  const argv = args.slice(i);
  if (argv.length === 0)
    throw new SimError('lxc-attach: phx-lab does not simulate the interactive shell: give a command', 1);
  return lxcAttach(name, argv);
}
