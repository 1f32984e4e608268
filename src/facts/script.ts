// The one shell script that reads a host's facts: each section prints its
// sources (the files and commands Ansible's fact collectors read, named in
// src/facts/collect.ts) after a marker, nothing is interpreted on the host.
// Every command that could hang (a dead NFS mount, pmxcfs) is bounded.
import { randomBytes } from 'node:crypto';

/** Ansible's subsets (gather_subset) and the sections each needs. */
export const SECTIONS = {
  platform: ['uname', 'fqdn', 'machine_id'],
  distribution: ['os_release', 'debian_version', 'redhat_release', 'alpine_release'],
  date_time: ['date'],
  env: ['env'],
  user: ['user'],
  pkg_mgr: ['pkg_mgr'],
  service_mgr: ['service_mgr'],
  hardware: ['meminfo', 'cpuinfo', 'mounts'],
  network: ['route4', 'route6', 'addr', 'sysnet'],
  pve: ['uname', 'pvecfg', 'corosync'],
} as const;

export type Subset = keyof typeof SECTIONS;
export type SectionName = (typeof SECTIONS)[Subset][number];

/** What Ansible's routines probe for the default route (network/linux.py get_default_interfaces). */
export const ROUTE_PROBE = { v4: '8.8.8.8', v6: '2404:6800:400a:800::1012' } as const;

/** pkg_mgr.py PKG_MGRS: the paths whose presence names the package manager. */
export const PKG_MGR_PATHS = [
  '/usr/bin/rpm-ostree',
  '/usr/bin/yum',
  '/usr/bin/dnf',
  '/usr/bin/dnf5',
  '/usr/bin/apt-get',
  '/usr/bin/zypper',
  '/usr/sbin/urpmi',
  '/usr/bin/pacman',
  '/bin/opkg',
  '/usr/pkg/bin/pkgin',
  '/opt/local/bin/pkgin',
  '/opt/tools/bin/pkgin',
  '/opt/local/bin/port',
  '/usr/local/bin/brew',
  '/opt/homebrew/bin/brew',
  '/sbin/apk',
  '/usr/sbin/pkg',
  '/usr/sbin/swlist',
  '/usr/bin/emerge',
  '/usr/sbin/swupd',
  '/usr/sbin/sorcery',
  '/usr/bin/installp',
  '/QOpenSys/pkgs/bin/yum',
  '/usr/bin/xbps-install',
] as const;

const BOUND = 'timeout 10'; // seconds a read of /etc/pve or a mount may take

const COMMANDS: Record<SectionName, string> = {
  uname: 'uname -n; uname -r; uname -m; uname -v; uname -s',
  fqdn: 'hostname -f',
  machine_id: 'cat /etc/machine-id || cat /var/lib/dbus/machine-id',
  os_release: 'cat /etc/os-release || cat /usr/lib/os-release',
  debian_version: 'cat /etc/debian_version',
  redhat_release: 'cat /etc/redhat-release',
  alpine_release: 'cat /etc/alpine-release',
  // local fields, then the zone names in January and July (for tz_dst)
  date:
    "LC_ALL=C date '+%Y %m %A %w %W %d %H %M %S %s %N %Z %z'; y=$(date +%Y);" +
    ' LC_ALL=C date -d "$y-01-01 12:00" \'+%Z %z\'; LC_ALL=C date -d "$y-07-01 12:00" \'+%Z %z\'',
  env: 'env -0',
  user: 'id -un; id -u; id -g; id -ru; id -rg; getent passwd "$(id -u)"',
  pkg_mgr: `for p in ${PKG_MGR_PATHS.join(' ')}; do [ -e "$p" ] && echo "$p"; done`,
  service_mgr:
    'echo "comm $(cat /proc/1/comm)"; [ -d /run/systemd/system ] && echo run-systemd;' +
    ' [ -e /sbin/openrc ] && echo openrc; [ "$(readlink /sbin/init)" ] && echo "init $(readlink /sbin/init)";' +
    ' [ -d /etc/init.d ] && echo init.d; [ -d /etc/dinit.d ] && echo dinit.d; true',
  meminfo: 'cat /proc/meminfo',
  cpuinfo: 'cat /proc/cpuinfo; echo "nproc $(nproc)"',
  // /proc/mounts, then each mount's statvfs numbers (stat -f), then lsblk's UUIDs
  mounts:
    'cat /proc/mounts; echo @@statvfs; while read -r dev mnt rest; do case "$dev" in /*|*:/*) ' +
    `m=$(printf '%b' "$mnt"); ${BOUND} stat -f -c "%S %b %a %f %c %d $mnt" -- "$m";; esac; done </proc/mounts;` +
    ' echo @@uuids; lsblk -ln --output NAME,UUID --exclude 2',
  route4: `ip -4 route get ${ROUTE_PROBE.v4}`,
  route6: `ip -6 route get ${ROUTE_PROBE.v6}`,
  addr: 'ip addr show',
  // one line per interface: name, then address mtu operstate type flags and whether it is a bridge
  sysnet:
    'for d in /sys/class/net/*; do [ -d "$d" ] || continue; printf "%s %s %s %s %s %s %s\\n" "${d##*/}"' +
    ' "$(cat "$d/address" 2>/dev/null)" "$(cat "$d/mtu" 2>/dev/null)" "$(cat "$d/operstate" 2>/dev/null)"' +
    ' "$(cat "$d/type" 2>/dev/null)" "$(cat "$d/flags" 2>/dev/null)" "$([ -d "$d/bridge" ] && echo bridge)"; done',
  pvecfg: 'cat /usr/share/perl5/PVE/pvecfg.pm',
  corosync: `${BOUND} cat /etc/pve/corosync.conf`,
};

export interface FactsScript {
  script: string;
  marker: string;
}

/** The script for these sections: each one's output after `<marker> <section>`, stderr dropped. */
export function factsScript(sections: Iterable<SectionName>): FactsScript {
  const marker = `@@phx-facts-${randomBytes(6).toString('hex')}`;
  const wanted = new Set(sections);
  const lines: string[] = [];
  const section = (s: SectionName) =>
    lines.push(`printf '\\n%s\\n' '${marker} ${s}'`, `{ ${COMMANDS[s]}; } 2>/dev/null`);
  // the environment first, as the login gave it: the PATH below is the script's own
  if (wanted.delete('env')) section('env');
  lines.push('PATH="$PATH:/usr/sbin:/sbin"');
  for (const s of wanted) section(s);
  lines.push(`printf '\\n%s\\n' '${marker} end'`);
  return { script: lines.join('\n'), marker };
}

/** The script's output cut into its sections (a section the host did not print is absent). */
export function splitSections(output: string, marker: string): Partial<Record<SectionName, string>> {
  const out: Partial<Record<SectionName, string>> = {};
  const parts = output.split(`\n${marker} `);
  for (const part of parts.slice(1)) {
    const nl = part.indexOf('\n');
    const name = (nl < 0 ? part : part.slice(0, nl)) as SectionName;
    if (Object.hasOwn(COMMANDS, name)) out[name] = nl < 0 ? '' : part.slice(nl + 1);
  }
  return out;
}
