// Memory, processor and mount facts as Ansible's LinuxHardware reports them
// (lib/ansible/module_utils/facts/hardware/linux.py: get_memory_facts from
// /proc/meminfo, get_cpu_facts from /proc/cpuinfo, get_mount_facts from
// /proc/mounts with statvfs sizes and lsblk UUIDs).

type Dict = Record<string, unknown>;

/** get_memory_facts: MemTotal, MemFree, SwapTotal, SwapFree in MB (kB // 1024). */
export function memoryFacts(meminfo: string): Dict {
  const kb: Record<string, number> = {};
  for (const line of meminfo.split('\n')) {
    const m = /^(\w+):\s+(\d+)/.exec(line);
    if (m) kb[m[1]] = Number(m[2]);
  }
  const mb = (k: string) => Math.floor(kb[k] / 1024);
  const out: Dict = {};
  for (const [key, fact] of [
    ['MemTotal', 'memtotal_mb'],
    ['MemFree', 'memfree_mb'],
    ['SwapTotal', 'swaptotal_mb'],
    ['SwapFree', 'swapfree_mb'],
  ])
    if (key in kb) out[fact] = mb(key);
  return out;
}

/**
 * get_cpu_facts (x86 and the like): sockets from `physical id` with their `cpu cores`,
 * cores from `core id` with their `siblings`; vcpus = threads per core × cores × count.
 */
export function cpuFacts(cpuinfo: string, architecture: string): Dict {
  const sockets = new Map<string, number>();
  const cores = new Map<string, number>();
  const processor: string[] = [];
  let i = 0;
  let occurrences = 0;
  let vendors = 0;
  let models = 0;
  let physid = '';
  let coreid = '';
  let nproc: number | undefined;
  for (const line of cpuinfo.split('\n')) {
    const n = /^nproc (\d+)$/.exec(line);
    if (n) nproc = Number(n[1]);
    const c = line.indexOf(':');
    if (c < 0) continue;
    const key = line.slice(0, c).trim();
    const val = line.slice(c + 1).trim();
    if (key === 'model name' || key === 'Processor' || key === 'vendor_id' || key === 'cpu' || key === 'Vendor ID') {
      processor.push(val);
      i++;
      if (key === 'vendor_id') vendors++;
      if (key === 'model name') models++;
    } else if (key === 'processor') {
      occurrences++;
      processor.push(val);
    } else if (key === 'physical id') {
      physid = val;
      if (!sockets.has(physid)) sockets.set(physid, 1);
    } else if (key === 'core id') {
      coreid = val;
      if (!cores.has(coreid)) cores.set(coreid, 1);
    } else if (key === 'cpu cores') {
      sockets.set(physid, Number(val));
    } else if (key === 'siblings') {
      cores.set(coreid, Number(val));
    }
  }
  if (vendors > 0 && vendors === models) i = vendors;
  // arm and ppc count `processor` lines (they have no model name per cpu)
  if (/^(armv|aarch|ppc)/.test(architecture)) i = occurrences;
  const count = sockets.size > 0 ? sockets.size : i;
  const firstSocket = [...sockets.values()][0];
  const perSocket = firstSocket ? firstSocket : 1;
  const firstCore = [...cores.values()][0];
  const threads = firstCore !== undefined ? Math.floor(firstCore / perSocket) : Math.floor(1 / perSocket);
  return {
    processor,
    processor_count: count,
    processor_cores: perSocket,
    processor_threads_per_core: threads,
    processor_vcpus: threads * count * perSocket,
    processor_nproc: nproc ?? occurrences,
  };
}

/** /proc/mounts escapes space, tab, newline and backslash as octal (\040). */
export function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/**
 * get_mount_facts: the mounts of /proc/mounts whose device is a path or a
 * network share (`host:/path`), not fstype none, with statvfs numbers and the UUID.
 */
export function mountFacts(section: string): Dict[] {
  const [mounts, rest = ''] = section.split('\n@@statvfs\n');
  const [statvfs, uuids = ''] = rest.split('\n@@uuids\n');
  const sizes = new Map<string, number[]>();
  for (const line of statvfs.split('\n')) {
    const f = line.split(' ');
    if (f.length === 7 && f.slice(0, 6).every((x) => /^\d+$/.test(x))) sizes.set(f[6], f.slice(0, 6).map(Number));
  }
  const uuidOf = new Map<string, string>();
  for (const line of uuids.split('\n')) {
    const [name, uuid] = line.trim().split(/\s+/);
    if (name && uuid) uuidOf.set(`/dev/${name}`, uuid);
  }
  const out: Dict[] = [];
  for (const line of mounts.split('\n')) {
    const f = line.split(' ');
    if (f.length < 4) continue;
    const [device, rawMount, fstype, options, dump = '0', passno = '0'] = f;
    if ((!device.startsWith('/') && !device.includes(':/')) || fstype === 'none') continue;
    const m: Dict = {
      mount: unescapeMount(rawMount),
      device: unescapeMount(device),
      fstype,
      options,
      dump: Number(dump),
      passno: Number(passno),
    };
    const s = sizes.get(rawMount);
    if (s) {
      const [bsize, blocks, bavail, bfree, files, ffree] = s;
      Object.assign(m, {
        size_total: bsize * blocks,
        size_available: bsize * bavail,
        block_size: bsize,
        block_total: blocks,
        block_available: bavail,
        block_used: blocks - bfree,
        inode_total: files,
        inode_available: ffree,
        inode_used: files - ffree,
      });
    }
    m.uuid = uuidOf.get(m.device as string) ?? 'N/A';
    out.push(m);
  }
  return out;
}
