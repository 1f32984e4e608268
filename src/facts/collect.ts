// A host's facts in one round trip: the script of src/facts/script.ts for the
// wanted subsets, its output parsed here on the controller. What the host
// prints is data: the caller marks it unsafe (never rendered as a template).
import type { ModuleContext } from '../module.js';
import { ModuleError } from '../module.js';
import { clusterFromCorosync, nodeName } from '../proxmox/cluster.js';
import { parsePveVersion, pveversionLineFromPvecfg } from '../proxmox/pve-version.js';
import { distributionFacts } from './distribution.js';
import { cpuFacts, memoryFacts, mountFacts } from './hardware.js';
import { networkFacts } from './network.js';
import { factsScript, SECTIONS, splitSections, type SectionName, type Subset } from './script.js';
import { dateTimeFacts, envFacts, pkgMgrFact, platformFacts, serviceMgrFact, userFacts } from './system.js';

type Dict = Record<string, unknown>;

/** Ansible's `min` subset (what `!all` still gathers), as far as phx-play reads it; pve added. */
const MIN: Subset[] = ['platform', 'distribution', 'date_time', 'env', 'user', 'pkg_mgr', 'service_mgr', 'pve'];
const ALL = Object.keys(SECTIONS) as Subset[];
/** subset names Ansible accepts that phx-play gathers nothing for (virtualization, ohai, facter) */
const IGNORED = ['virtual', 'ohai', 'facter'];

/**
 * gather_subset as Ansible's collector.get_collector_names reads it: min first,
 * then the additions, `!name` exclusions (`!all` keeps min), names asked for
 * explicitly survive the exclusions; nothing added at all means all.
 */
export function resolveSubsets(spec: readonly string[]): Subset[] {
  const add = new Set<Subset>();
  const drop = new Set<Subset>();
  const explicit = new Set<Subset>();
  const expand = (name: string, neg: boolean): Subset[] => {
    if (name === 'all') return neg ? ALL.filter((s) => !MIN.includes(s)) : ALL;
    if (name === 'min') return MIN;
    if (Object.hasOwn(SECTIONS, name)) return [name as Subset];
    // excluding an unknown subset is ignored, adding one is an error (as in Ansible)
    if (neg || IGNORED.includes(name)) return [];
    throw new ModuleError(
      `Bad subset '${name}' given to gather_subset. Allowed: all, min, ${[...ALL, ...IGNORED].join(', ')}`,
    );
  };
  for (const raw of ['min', ...spec]) {
    const neg = raw.startsWith('!');
    const name = neg ? raw.slice(1) : raw;
    for (const n of expand(name, neg)) (neg ? drop : add).add(n);
    if (!neg && name !== 'all' && name !== 'min' && Object.hasOwn(SECTIONS, name)) explicit.add(name as Subset);
  }
  if (add.size === 0) for (const n of ALL) add.add(n);
  return ALL.filter((s) => add.has(s) && (!drop.has(s) || explicit.has(s)));
}

/** Runs the script once and returns the facts of these subsets (names without the ansible_ prefix). */
export async function collectFacts(ctx: ModuleContext, subsets: readonly Subset[]): Promise<Dict> {
  const sections = new Set<SectionName>(subsets.flatMap((s) => [...SECTIONS[s]]));
  if (sections.size === 0) return {};
  const { script, marker } = factsScript(sections);
  const r = await ctx.runShell(script, { okExit: 'any' });
  const out = splitSections(r.stdout, marker);
  if (!r.stdout.includes(`\n${marker} end`))
    throw new ModuleError(`could not read the facts of ${ctx.host}: ${r.stderr.trim() || `exit code ${r.rc}`}`, {
      result: r,
    });
  return factsFromSections(out, subsets);
}

/** The facts of the wanted subsets from the script's sections. */
export function factsFromSections(s: Partial<Record<SectionName, string>>, subsets: readonly Subset[]): Dict {
  const facts: Dict = {};
  const want = new Set(subsets);
  const platform = platformFacts(s.uname, s.fqdn, s.machine_id);
  if (want.has('platform')) Object.assign(facts, platform);
  let family = 'NA';
  if (want.has('distribution') || want.has('pkg_mgr')) {
    const { osRelease: _, ...d } = distributionFacts({
      osRelease: s.os_release,
      debianVersion: s.debian_version,
      redhatRelease: s.redhat_release,
      alpineRelease: s.alpine_release,
    });
    family = d.os_family;
    if (want.has('distribution')) Object.assign(facts, d);
  }
  if (want.has('date_time')) facts.date_time = dateTimeFacts(s.date);
  if (want.has('env')) facts.env = envFacts(s.env);
  if (want.has('user')) Object.assign(facts, userFacts(s.user));
  if (want.has('pkg_mgr')) facts.pkg_mgr = pkgMgrFact(s.pkg_mgr, family);
  if (want.has('service_mgr')) facts.service_mgr = serviceMgrFact(s.service_mgr);
  if (want.has('hardware')) {
    Object.assign(facts, memoryFacts(s.meminfo ?? ''), cpuFacts(s.cpuinfo ?? '', platform.machine as string));
    facts.mounts = mountFacts(s.mounts ?? '');
  }
  if (want.has('network')) {
    const n = networkFacts(s);
    // defined, not assigned: an interface's name is the host's (it may be __proto__)
    for (const [name, v] of Object.entries(n.perInterface))
      Object.defineProperty(facts, name, { value: v, enumerable: true, writable: true, configurable: true });
    facts.interfaces = n.interfaces;
    facts.default_ipv4 = n.default_ipv4;
    facts.default_ipv6 = n.default_ipv6;
    facts.all_ipv4_addresses = n.all_ipv4_addresses;
    facts.all_ipv6_addresses = n.all_ipv6_addresses;
  }
  if (want.has('pve')) {
    const pve = pveFact(s.pvecfg, platform.kernel as string, platform.nodename as string, s.corosync);
    if (pve) facts.pve = pve;
  }
  return facts;
}

/**
 * The `pve` fact of a Proxmox VE host: its release as pveversion prints it (read
 * from PVE/pvecfg.pm and uname -r, src/proxmox/pve-version.ts), its node name
 * (PVE::INotify::nodename) and its cluster (corosync.conf, src/proxmox/cluster.ts).
 * No Perl tool is started. Undefined on a host that is no PVE host.
 */
export function pveFact(
  pvecfg: string | undefined,
  kernel: string,
  unameN: string,
  corosync?: string,
): Dict | undefined {
  const line = pvecfg ? pveversionLineFromPvecfg(pvecfg, kernel) : undefined;
  const v = line !== undefined ? parsePveVersion(line) : undefined;
  if (!v) return undefined;
  const out: Dict = {
    version: v.text,
    major: v.major,
    minor: v.minor,
    kernel: v.kernel ?? kernel,
    node: nodeName(unameN),
    cluster: null,
    cluster_nodes: [],
  };
  if (corosync?.trim()) {
    try {
      const c = clusterFromCorosync(corosync);
      if (c) Object.assign(out, { cluster: c.name, cluster_nodes: c.nodes });
    } catch (e) {
      // never guess standalone: the fact says it could not tell
      Object.assign(out, { cluster: undefined, cluster_error: (e as Error).message });
      delete out.cluster;
    }
  }
  return out;
}

/** setup's `filter`: shell-style patterns on fact names, with or without the ansible_ prefix. */
export function filterFacts(facts: Dict, patterns: readonly string[]): Dict {
  if (patterns.length === 0 || patterns.includes('*')) return facts;
  const res = patterns.map(
    (p) =>
      new RegExp(
        `^${p
          .replace(/[.+^${}()|\\]/g, '\\$&')
          .replace(/\*/g, '.*')
          .replace(/\?/g, '.')}$`,
      ),
  );
  return Object.fromEntries(
    Object.entries(facts).filter(([k]) => res.some((re) => re.test(k) || re.test(`ansible_${k}`))),
  );
}
