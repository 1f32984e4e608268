// ansible_default_ipv4/ipv6, ansible_interfaces, ansible_<iface>,
// ansible_all_ipv4/ipv6_addresses as Ansible's LinuxNetwork builds them
// (lib/ansible/module_utils/facts/network/linux.py: get_default_interfaces from
// `ip -4|-6 route get`, get_interfaces_info from /sys/class/net/* and `ip addr`).
import { ROUTE_PROBE } from './script.js';

type Dict = Record<string, unknown>;

/** get_default_interfaces: the first line's dev, src and via (a via equal to the probe is no gateway). */
export function parseRouteGet(output: string, probe: string): Dict {
  const words = (output.split('\n').find((l) => l.trim() !== '') ?? '').trim().split(/\s+/);
  const out: Dict = {};
  if (words[0] !== probe) return out;
  for (let i = 0; i < words.length - 1; i++) {
    if (words[i] === 'dev') out.interface = words[i + 1];
    else if (words[i] === 'src') out.address = words[i + 1];
    else if (words[i] === 'via' && words[i + 1] !== probe) out.gateway = words[i + 1];
  }
  return out;
}

export interface SysNetLine {
  device: string;
  macaddress?: string;
  mtu?: number;
  active?: boolean;
  type?: string;
  promisc?: boolean;
}

// LinuxNetwork.INTERFACE_TYPE
const INTERFACE_TYPE: Record<string, string> = {
  '1': 'ether',
  '32': 'infiniband',
  '512': 'ppp',
  '772': 'loopback',
  '65534': 'tunnel',
};

/** The script's /sys/class/net lines: name address mtu operstate type flags [bridge]. */
export function parseSysNet(output: string): SysNetLine[] {
  const out: SysNetLine[] = [];
  for (const line of output.split('\n')) {
    const [device, mac, mtu, oper, type, flags, bridge] = line.split(' ');
    if (!device) continue;
    const i: SysNetLine = { device };
    if (mac && mac !== '00:00:00:00:00:00') i.macaddress = mac;
    if (mtu && /^\d+$/.test(mtu)) i.mtu = Number(mtu);
    if (oper) i.active = oper !== 'down';
    if (type) i.type = INTERFACE_TYPE[type] ?? 'unknown';
    if (bridge === 'bridge') i.type = 'bridge';
    if (flags && /^0x[0-9a-f]+$/i.test(flags)) i.promisc = (parseInt(flags, 16) & 0x0100) > 0;
    out.push(i);
  }
  return out;
}

function ipv4Numbers(address: string, prefix: number): { netmask: string; network: string } | undefined {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  const addr = ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const dotted = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
  return { netmask: dotted(mask), network: dotted((addr & mask) >>> 0) };
}

export interface NetworkFacts {
  interfaces: string[];
  /** ansible_<name> (':' in a name becomes '_') */
  perInterface: Record<string, Dict>;
  default_ipv4: Dict;
  default_ipv6: Dict;
  all_ipv4_addresses: string[];
  all_ipv6_addresses: string[];
}

/** `ip addr show` cut into each device's lines (a device starts at "N: name[@link]: <...>"). */
function addrBlocks(output: string): Map<string, string[]> {
  const blocks = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of output.split('\n')) {
    const head = /^\d+:\s+([^:@\s]+)(?:@\S+)?:/.exec(line);
    if (head) blocks.set(head[1], (current = []));
    else if (current && line.trim()) current.push(line.trim());
  }
  return blocks;
}

export function networkFacts(sections: {
  route4?: string;
  route6?: string;
  addr?: string;
  sysnet?: string;
}): NetworkFacts {
  const default_ipv4 = parseRouteGet(sections.route4 ?? '', ROUTE_PROBE.v4);
  const default_ipv6 = parseRouteGet(sections.route6 ?? '', ROUTE_PROBE.v6);
  // names are the host's (an interface may be called `constructor`): a Map, never an object's keys
  const interfaces = new Map<string, Dict>();
  const ips = { v4: [] as string[], v6: [] as string[] };
  const blocks = addrBlocks(sections.addr ?? '');
  for (const sys of parseSysNet(sections.sysnet ?? '')) {
    const device = sys.device;
    const iface: Dict = { ...sys };
    interfaces.set(device, iface);
    for (const line of blocks.get(device) ?? []) {
      const words = line.split(/\s+/);
      const secondary = words.includes('secondary');
      if (words[0] === 'inet') {
        const [address, len] = words[1].includes('/') ? words[1].split('/') : [words[1], '32'];
        const broadcast = words[2] === 'brd' ? words[3] : '';
        const nums = ipv4Numbers(address, Number(len));
        if (!nums) continue;
        const entry = { address, broadcast, ...nums, prefix: len };
        const label = words[words.length - 1];
        if (label !== device && !interfaces.has(label)) interfaces.set(label, {});
        const target = label !== device ? interfaces.get(label)! : iface;
        // the primary address is one mapping (the first), secondaries a list, also on the main device
        if (!secondary) target.ipv4 ??= entry;
        else {
          ((target.ipv4_secondaries as Dict[]) ??= []).push(entry);
          if (label !== device) ((iface.ipv4_secondaries as Dict[]) ??= []).push(entry);
        }
        if (default_ipv4.address === address) {
          const { broadcast: b, netmask, network, prefix } = entry;
          Object.assign(default_ipv4, { broadcast: b, netmask, network, prefix, macaddress: sys.macaddress });
          Object.assign(default_ipv4, { mtu: sys.mtu, type: sys.type ?? 'unknown', alias: label });
        }
        if (!address.startsWith('127.')) ips.v4.push(address);
      } else if (words[0] === 'inet6') {
        const peer = words[2] === 'peer';
        const address = peer ? words[1] : words[1].split('/')[0];
        const prefix = peer ? (words[3] ?? '').split('/')[1] : words[1].split('/')[1];
        const scope = peer ? words[5] : words[3];
        ((iface.ipv6 as Dict[]) ??= []).push({ address, prefix, scope });
        if (default_ipv6.address === address)
          Object.assign(default_ipv6, {
            prefix,
            scope,
            macaddress: sys.macaddress,
            mtu: sys.mtu,
            type: sys.type ?? 'unknown',
          });
        if (address !== '::1') ips.v6.push(address);
      }
    }
  }
  const renamed = new Map([...interfaces].map(([name, v]) => [name.replace(/:/g, '_'), v]));
  const perInterface: Record<string, Dict> = Object.fromEntries(renamed); // own keys, even `__proto__`
  return {
    interfaces: [...renamed.keys()],
    perInterface,
    default_ipv4,
    default_ipv6,
    all_ipv4_addresses: ips.v4,
    all_ipv6_addresses: ips.v6,
  };
}
