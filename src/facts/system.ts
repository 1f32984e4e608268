// Platform, date/time, environment, user, package and service manager facts as
// Ansible's collectors compute them (lib/ansible/module_utils/facts/system/:
// platform.py, date_time.py, env.py, user.py, pkg_mgr.py, service_mgr.py).
import { PKG_MGR_PATHS } from './script.js';

type Dict = Record<string, unknown>;
const lines = (s: string | undefined) => (s ?? '').split('\n').filter((l) => l !== '');

/** platform.py: uname nodename/release/machine/version/system; hostname is the nodename up to the first dot. */
export function platformFacts(uname: string | undefined, fqdn: string | undefined, machineId?: string): Dict {
  const [nodename = '', kernel = '', machine = '', kernelVersion = '', system = 'Linux'] = lines(uname);
  const out: Dict = {
    system,
    kernel,
    kernel_version: kernelVersion,
    machine,
    architecture: machine,
    nodename,
    hostname: nodename.split('.')[0],
    // socket.getfqdn(): the canonical name of the host name; `hostname -f` asks the same resolver
    fqdn: lines(fqdn)[0]?.trim() || nodename,
    domain: '',
  };
  const fq = out.fqdn as string;
  out.domain = fq.includes('.') ? fq.slice(fq.indexOf('.') + 1) : '';
  const id = lines(machineId)[0]?.trim();
  if (id) out.machine_id = id;
  return out;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/**
 * date_time.py: local fields from the host's clock; iso8601* in UTC from the
 * epoch; tz_dst is the zone's daylight name (time.tzname[1]).
 */
export function dateTimeFacts(section: string | undefined): Dict {
  const [now = '', jan = '', jul = ''] = lines(section);
  const f = now.split(' ');
  if (f.length < 13) return {};
  const [year, month, weekday, weekdayNumber, weeknumber, day, hour, minute, second, epoch, nanos, tz, tzOffset] = f;
  const micro = (nanos.match(/^\d+$/) ? nanos : '0').padEnd(9, '0').slice(0, 6);
  const utc = new Date(Number(epoch) * 1000);
  const isoDate = `${utc.getUTCFullYear()}-${pad(utc.getUTCMonth() + 1)}-${pad(utc.getUTCDate())}`;
  const isoTime = `${pad(utc.getUTCHours())}:${pad(utc.getUTCMinutes())}:${pad(utc.getUTCSeconds())}`;
  const [janName, janOff = ''] = jan.split(' ');
  const [julName, julOff = ''] = jul.split(' ');
  // the daylight name is the one with the larger offset; a zone without DST has one name
  const dst = janName === julName ? janName : Number(julOff) > Number(janOff) ? julName : janName;
  return {
    year,
    month,
    weekday,
    weekday_number: weekdayNumber,
    weeknumber,
    day,
    hour,
    minute,
    second,
    epoch,
    epoch_int: String(Number(epoch)),
    date: `${year}-${month}-${day}`,
    time: `${hour}:${minute}:${second}`,
    iso8601_micro: `${isoDate}T${isoTime}.${micro}Z`,
    iso8601: `${isoDate}T${isoTime}Z`,
    iso8601_basic: `${year}${month}${day}T${hour}${minute}${second}${micro}`,
    iso8601_basic_short: `${year}${month}${day}T${hour}${minute}${second}`,
    tz,
    tz_dst: dst ?? tz,
    tz_offset: tzOffset,
  };
}

/** env.py: the module's environment (`env -0`: NUL-separated, values may hold newlines). */
export function envFacts(section: string | undefined): Record<string, string> {
  const out = new Map<string, string>();
  for (const entry of (section ?? '').split('\0')) {
    const eq = entry.indexOf('=');
    const name = entry.slice(0, eq).replace(/^\n+/, '');
    if (eq > 0 && name) out.set(name, entry.slice(eq + 1));
  }
  return Object.fromEntries(out); // own keys, whatever the names
}

/** user.py: user_id, uid/gid, real/effective ids and the passwd entry's gecos, home and shell. */
export function userFacts(section: string | undefined): Dict {
  const [name = '', uid = '', gid = '', ruid = '', rgid = '', passwd = ''] = lines(section);
  const pw = passwd.split(':');
  const out: Dict = {
    user_id: name,
    user_uid: Number(uid),
    user_gid: Number(gid),
    real_user_id: Number(ruid),
    effective_user_id: Number(uid),
    real_group_id: Number(rgid),
    effective_group_id: Number(gid),
  };
  if (pw.length >= 7) Object.assign(out, { user_gecos: pw[4], user_dir: pw[5], user_shell: pw[6] });
  return out;
}

const PKG_MGR_NAMES: Record<(typeof PKG_MGR_PATHS)[number], string> = {
  '/usr/bin/rpm-ostree': 'atomic_container',
  '/usr/bin/yum': 'yum',
  '/usr/bin/dnf': 'dnf',
  '/usr/bin/dnf5': 'dnf5',
  '/usr/bin/apt-get': 'apt',
  '/usr/bin/zypper': 'zypper',
  '/usr/sbin/urpmi': 'urpmi',
  '/usr/bin/pacman': 'pacman',
  '/bin/opkg': 'opkg',
  '/usr/pkg/bin/pkgin': 'pkgng',
  '/opt/local/bin/pkgin': 'pkgng',
  '/opt/tools/bin/pkgin': 'pkgng',
  '/opt/local/bin/port': 'macports',
  '/usr/local/bin/brew': 'homebrew',
  '/opt/homebrew/bin/brew': 'homebrew',
  '/sbin/apk': 'apk',
  '/usr/sbin/pkg': 'pkgng',
  '/usr/sbin/swlist': 'swdepot',
  '/usr/bin/emerge': 'portage',
  '/usr/sbin/swupd': 'swupd',
  '/usr/sbin/sorcery': 'sorcery',
  '/usr/bin/installp': 'installp',
  '/QOpenSys/pkgs/bin/yum': 'yum',
  '/usr/bin/xbps-install': 'xbps',
};

/**
 * pkg_mgr.py PkgMgrFactCollector: the last of PKG_MGRS present names it; a
 * Debian-family host always uses apt; a RedHat-family one dnf/yum by what exists.
 */
export function pkgMgrFact(section: string | undefined, osFamily: string): string {
  const present = new Set(lines(section).map((l) => l.trim()));
  let name = 'unknown';
  for (const p of PKG_MGR_PATHS) if (present.has(p)) name = PKG_MGR_NAMES[p];
  if (osFamily === 'Debian') return 'apt';
  if (osFamily === 'RedHat' && (name === 'yum' || name === 'dnf' || name === 'dnf5' || name === 'unknown')) {
    if (present.has('/usr/bin/dnf5')) return 'dnf5';
    if (present.has('/usr/bin/dnf')) return 'dnf';
    if (present.has('/usr/bin/yum')) return 'yum';
  }
  return name;
}

/**
 * service_mgr.py on Linux: PID 1's command name (init and shells say nothing),
 * else systemd when /run/systemd/system exists, openrc, systemd by /sbin/init,
 * sysvinit by /etc/init.d, dinit; 'service' when nothing tells.
 */
export function serviceMgrFact(section: string | undefined): string {
  const ls = lines(section);
  const comm = ls
    .find((l) => l.startsWith('comm '))
    ?.slice(5)
    .trim();
  const has = (flag: string) => ls.includes(flag);
  if (comm && comm !== 'init' && !comm.endsWith('sh')) {
    const renames: Record<string, string> = {
      procd: 'openwrt_init',
      'openrc-init': 'openrc',
      'runit-init': 'runit',
      svscan: 'svc',
    };
    return Object.hasOwn(renames, comm) ? renames[comm] : comm;
  }
  if (has('run-systemd')) return 'systemd';
  if (has('openrc')) return 'openrc';
  if (ls.some((l) => l.startsWith('init ') && l.includes('systemd'))) return 'systemd';
  if (has('init.d')) return 'sysvinit';
  if (has('dinit.d')) return 'dinit';
  return 'service';
}
