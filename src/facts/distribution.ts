// ansible_distribution, _version, _release, _major_version and ansible_os_family
// as Ansible derives them (lib/ansible/module_utils/facts/system/distribution.py
// DistributionFiles.process_dist_files and Distribution.OS_FAMILY_MAP; the guess
// from module_utils/common/sys_info.py get_distribution*, which reads
// /etc/os-release through the bundled `distro`): the guess from os-release, then
// the first distribution file that parses overrides the name (and the release).

export interface DistributionFiles {
  osRelease?: string;
  debianVersion?: string;
  redhatRelease?: string;
  alpineRelease?: string;
}

export interface Distribution {
  distribution: string;
  distribution_version: string;
  distribution_release: string;
  distribution_major_version: string;
  os_family: string;
  /** the raw os-release keys (not a fact: for the pve fact and tests) */
  osRelease: Record<string, string>;
}

/** os-release (os-release(5)): KEY=value lines, values optionally quoted with shell escapes. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z0-9_]+)=(.*?)\s*$/.exec(line);
    if (!m) continue;
    let v = m[2];
    const q = v[0];
    if ((q === '"' || q === "'") && v.endsWith(q) && v.length >= 2) {
      v = v.slice(1, -1);
      if (q === '"') v = v.replace(/\\(["\\$`])/g, '$1');
    }
    out[m[1]] = v;
  }
  return out;
}

const OS_FAMILY_MAP: Record<string, string[]> = {
  RedHat: [
    'RedHat',
    'Fedora',
    'CentOS',
    'Scientific',
    'SLC',
    'Ascendos',
    'CloudLinux',
    'PSBM',
    'OracleLinux',
    'OVS',
    'OEL',
    'Amazon',
    'Virtuozzo',
    'XenServer',
    'Alibaba',
    'EulerOS',
    'openEuler',
    'AlmaLinux',
    'Rocky',
    'TencentOS',
    'EuroLinux',
    'Kylin Linux Advanced Server',
  ],
  Debian: [
    'Debian',
    'Ubuntu',
    'Raspbian',
    'Neon',
    'KDE neon',
    'Linux Mint',
    'SteamOS',
    'Devuan',
    'Kali',
    'Cumulus Linux',
    'Pop!_OS',
    'Parrot',
    'Pardus GNU/Linux',
    'Uos',
    'Deepin',
    'OSMC',
  ],
  Suse: ['SuSE', 'SLES', 'SLED', 'openSUSE', 'openSUSE Tumbleweed', 'SLES_SAP', 'SUSE_LINUX', 'openSUSE Leap'],
  Archlinux: ['Archlinux', 'Antergos', 'Manjaro'],
  Mandrake: ['Mandrake', 'Mandriva'],
  Gentoo: ['Gentoo', 'Funtoo'],
  Alpine: ['Alpine'],
  Slackware: ['Slackware'],
  Altlinux: ['Altlinux'],
  ClearLinux: ['Clear Linux OS', 'Clear Linux Mix'],
};

export function osFamily(distribution: string): string {
  for (const [family, names] of Object.entries(OS_FAMILY_MAP)) if (names.includes(distribution)) return family;
  return distribution;
}

const NUMERIC = /^\d+(\.\d+)*$/;

/** sys_info.get_distribution_version: os-release VERSION_ID; Debian the most precise (distro best=True: /etc/debian_version). */
function guessVersion(id: string, osr: Record<string, string>, files: DistributionFiles): string | undefined {
  const version = osr.VERSION_ID;
  const debian = files.debianVersion?.trim();
  if (id === 'debian' && debian && NUMERIC.test(debian) && (!version || debian.startsWith(version))) return debian;
  if (id === 'centos' && version) return version.split('.').slice(0, 2).join('.');
  return version || undefined;
}

export function distributionFacts(files: DistributionFiles): Distribution {
  const osRelease = parseOsRelease(files.osRelease ?? '');
  const id = (osRelease.ID ?? '').toLowerCase();
  // sys_info.get_distribution: distro.id().capitalize(), with its two renames
  const cap = id ? id[0].toUpperCase() + id.slice(1) : '';
  const guess = cap === 'Amzn' ? 'Amazon' : cap === 'Rhel' ? 'Redhat' : cap || 'NA';
  const version = guessVersion(id, osRelease, files) ?? 'NA';
  const d: Omit<Distribution, 'os_family'> = {
    distribution: guess,
    distribution_version: version,
    distribution_major_version: version.split('.')[0] || 'NA',
    // get_distribution_codename: VERSION_CODENAME, else UBUNTU_CODENAME
    distribution_release: osRelease.VERSION_CODENAME ?? osRelease.UBUNTU_CODENAME ?? 'NA',
    osRelease,
  };
  Object.assign(d, fromDistFiles(files, d));
  return { ...d, os_family: osFamily(d.distribution) };
}

/** process_dist_files: the first file of OSDIST_LIST (in its order) that parses wins. */
function fromDistFiles(files: DistributionFiles, guess: Omit<Distribution, 'os_family'>): Partial<Distribution> {
  const redhat = files.redhatRelease?.trim();
  if (redhat) {
    // SEARCH_STRING: 'Red Hat' names RedHat, else the file's first word (CentOS, Fedora, ...)
    return { distribution: redhat.includes('Red Hat') ? 'RedHat' : redhat.split(/\s+/)[0] };
  }
  const osr = files.osRelease?.trim() ?? '';
  if (osr.includes('Amazon')) return { distribution: 'Amazon' };
  if (files.alpineRelease?.trim()) return { distribution: 'Alpine', distribution_version: files.alpineRelease.trim() };
  if (osr.includes('Arch Linux')) return { distribution: 'Archlinux' };
  if (osr.toLowerCase().includes('suse')) {
    const name = guess.osRelease.NAME;
    return name ? { distribution: name } : {};
  }
  if (osr) {
    const debian = debianFile(osr);
    if (debian) return debian;
    // parse_distribution_file_NA: NAME, and VERSION when nothing gave a version
    const out: Partial<Distribution> = {};
    if (guess.osRelease.NAME !== undefined) out.distribution = guess.osRelease.NAME;
    if (guess.distribution_version === 'NA' && guess.osRelease.VERSION !== undefined)
      out.distribution_version = guess.osRelease.VERSION;
    return out;
  }
  return {};
}

/** parse_distribution_file_Debian on /etc/os-release. */
function debianFile(data: string): Partial<Distribution> | undefined {
  if (data.includes('Debian') || data.includes('Raspbian')) {
    const release = /PRETTY_NAME=[^(]+ \(?([^)]+?)\)/.exec(data);
    return { distribution: 'Debian', ...(release ? { distribution_release: release[1] } : {}) };
  }
  if (data.includes('Ubuntu')) return { distribution: 'Ubuntu' };
  if (data.includes('SteamOS')) return { distribution: 'SteamOS' };
  if (data.includes('Devuan')) {
    const release = /PRETTY_NAME="?[^("]+ \(?([^) "]+)\)?/.exec(data);
    return { distribution: 'Devuan', ...(release ? { distribution_release: release[1] } : {}) };
  }
  return undefined;
}
