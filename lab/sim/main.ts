// Entry point of every simulated tool: `node main.js <tool> args…` (the lab's
// shims in /usr/local/sbin call it). Each tool is imported on demand to keep
// start-up light.
import { inspect } from 'node:util';
import { SimError } from './env.js';
import { logToolCall, toolLatencyMs } from './tool-calls.js';

type Tool = (args: string[]) => number | Promise<number>;

const TOOLS: Record<string, () => Promise<Tool>> = {
  pct: async () => (await import('./pct.js')).pct,
  pvesm: async () => (await import('./pvesm.js')).pvesm,
  qm: async () => (await import('./qm.js')).qm,
  zfs: async () => (await import('./zfs.js')).zfs,
  exportfs: async () => (await import('./nfs.js')).exportfs,
  showmount: async () => (await import('./nfs.js')).showmount,
  rpcinfo: async () => (await import('./nfs.js')).rpcinfo,
  'apt-get': async () => (await import('./apt.js')).aptGet,
  apt: async () => {
    const { aptGet } = await import('./apt.js');
    return (args: string[]) => aptGet(args, 'apt');
  },
  'apt-cache': async () => (await import('./apt.js')).aptCache,
  'dpkg-query': async () => (await import('./apt.js')).dpkgQuery,
  dpkg: async () => (await import('./apt.js')).dpkg,
  systemctl: async () => {
    if (process.env.PHX_LAB_GUEST) return (await import('./units.js')).guestSystemctl;
    await import('./nfs.js'); // registers nfs-server's start/stop hooks
    return (await import('./systemd.js')).systemctl;
  },
  pvenode: async () => (await import('./pvenode.js')).pvenode,
  pvecm: async () => (await import('./pvecm.js')).pvecm,
  pveversion: async () => (await import('./pveversion.js')).pveversion,
  // the lab's knob (no Proxmox tool): rewrites the host's pvecfg.pm for a release
  'phx-lab-pve-version': async () => (await import('./pveversion.js')).phxLabPveVersion,
  docker: async () => (await import('./docker.js')).docker,
  'lxc-attach': async () => (await import('./lxc-attach.js')).lxcAttachTool,
  // at host start (lab/hostfs.ts): the host's /proc/1/net/unix from its CTs' state
  '__publish-active-cts': async () => {
    const { publishActiveCts } = await import('./active-cts.js');
    return () => {
      publishActiveCts();
      return 0;
    };
  },
  '__nfs-mount-check': async () => {
    const { nfsMountProblem } = await import('./nfs.js');
    return (args: string[]) => {
      process.stdout.write(`${nfsMountProblem(args[0], args[1]) ?? 'ok'}\n`);
      return 0;
    };
  },
};

export const TOOL_NAMES = Object.keys(TOOLS).filter((t) => !t.startsWith('__'));

async function main(): Promise<void> {
  const [tool, ...args] = process.argv.slice(2);
  const load = TOOLS[tool];
  if (!load) {
    process.stderr.write(`phx-lab: unknown tool '${tool}'\n`);
    process.exitCode = 127;
    return;
  }
  logToolCall(tool, args);
  const delay = toolLatencyMs(tool, args);
  if (delay > 0) await new Promise((r) => setTimeout(r, delay));
  try {
    process.exitCode = await (await load())(args);
  } catch (e) {
    if (e instanceof SimError) {
      if (e.stdout) process.stdout.write(e.stdout);
      if (e.message) process.stderr.write(e.message + '\n');
      process.exitCode = e.rc;
    } else {
      process.stderr.write(`phx-lab internal error: ${e instanceof Error ? (e.stack ?? e.message) : inspect(e)}\n`);
      process.exitCode = 70;
    }
  }
}

if (
  process.argv[1] &&
  import.meta.url.endsWith(process.argv[1].split('/').pop()!) &&
  process.argv[1].endsWith('main.js')
)
  void main();
