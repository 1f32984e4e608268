// The lab's package universe: what `apt-get update` makes known on a lab host or
// inside a lab container (Debian 12 "bookworm" versions, as the CT template is
// debian-12-standard). A package brings its dpkg status stanza, its services
// (units), and files: a payload tree the lab copies from this machine (nginx's
// /etc/nginx comes from the machine's own Debian nginx package, see hostfs.ts)
// and programs of the machine's /usr that a container sees only once installed.

export interface CataloguePackage {
  name: string;
  version: string;
  architecture: 'amd64' | 'all';
  section: string;
  priority: 'required' | 'important' | 'standard' | 'optional';
  installedSize: number; // KiB, as dpkg's Installed-Size
  downloadSize: number; // bytes of the .deb, for apt-get's "Need to get"
  maintainer: string;
  description: string;
  depends?: string[];
  suggests?: string[];
  /** systemd units the package ships, enabled and started by its postinst (Debian policy 9.3.3) */
  units?: string[];
  /** the lab's payload directory (under PHX_LAB_DEBS) copied into the root at unpack */
  payload?: string;
  /** files under the payload that are conffiles (kept by `remove`, deleted by `purge`) */
  conffilesUnder?: string[];
  /** directories the postinst creates and `purge` removes (nginx: its logs and state) */
  purgeDirs?: string[];
  /** machine files under /usr hidden inside containers until the package is installed there */
  usrFiles?: string[];
  /** argv checked before a unit (re)starts or reloads (the unit's ExecStartPre / ExecReload parse) */
  configTest?: string[];
}

const DEBIAN_NGINX = 'Debian Nginx Maintainers <pkg-nginx-maintainers@alioth-lists.debian.net>';
const NGINX_VERSION = '1.22.1-9+deb12u9';

export const CATALOGUE: readonly CataloguePackage[] = [
  {
    name: 'nginx',
    version: NGINX_VERSION,
    architecture: 'amd64',
    section: 'httpd',
    priority: 'optional',
    installedSize: 1306,
    downloadSize: 527_492,
    maintainer: DEBIAN_NGINX,
    description: 'small, powerful, scalable web/proxy server',
    depends: ['nginx-common'],
    suggests: ['nginx-doc'],
    units: ['nginx'],
    usrFiles: ['/usr/sbin/nginx'],
    configTest: ['/usr/sbin/nginx', '-t', '-q', '-g', 'daemon on; master_process on;'],
  },
  {
    name: 'nginx-common',
    version: NGINX_VERSION,
    architecture: 'all',
    section: 'httpd',
    priority: 'optional',
    installedSize: 389,
    downloadSize: 112_548,
    maintainer: DEBIAN_NGINX,
    description: 'small, powerful, scalable web/proxy server - common files',
    suggests: ['fcgiwrap', 'nginx-doc', 'ssl-cert'],
    payload: 'nginx-common',
    conffilesUnder: ['/etc/nginx'],
    purgeDirs: ['/var/log/nginx', '/var/lib/nginx'],
  },
  {
    name: 'nginx-light',
    version: NGINX_VERSION,
    architecture: 'all',
    section: 'httpd',
    priority: 'optional',
    installedSize: 21,
    downloadSize: 22_692,
    maintainer: DEBIAN_NGINX,
    description: 'nginx web/proxy server (basic version)',
    depends: ['nginx'],
  },
  {
    name: 'curl',
    version: '7.88.1-10+deb12u14',
    architecture: 'amd64',
    section: 'web',
    priority: 'optional',
    installedSize: 500,
    downloadSize: 315_364,
    maintainer: 'Alessandro Ghedini <ghedo@debian.org>',
    description: 'command line tool for transferring data with URL syntax',
    depends: ['libcurl4'],
  },
  {
    name: 'libcurl4',
    version: '7.88.1-10+deb12u14',
    architecture: 'amd64',
    section: 'libs',
    priority: 'optional',
    installedSize: 832,
    downloadSize: 391_384,
    maintainer: 'Alessandro Ghedini <ghedo@debian.org>',
    description: 'easy-to-use client-side URL transfer library (OpenSSL flavour)',
  },
  {
    name: 'nfs-common',
    version: '1:2.6.2-4+deb12u1',
    architecture: 'amd64',
    section: 'net',
    priority: 'optional',
    installedSize: 1139,
    downloadSize: 262_144,
    maintainer: 'Debian kernel team <debian-kernel@lists.debian.org>',
    description: 'NFS support files common to client and server',
    depends: ['rpcbind'],
  },
  {
    name: 'nfs-kernel-server',
    version: '1:2.6.2-4+deb12u1',
    architecture: 'amd64',
    section: 'net',
    priority: 'optional',
    installedSize: 544,
    downloadSize: 154_112,
    maintainer: 'Debian kernel team <debian-kernel@lists.debian.org>',
    description: 'support for NFS kernel server',
    depends: ['nfs-common'],
    units: ['nfs-server'],
  },
  {
    name: 'rpcbind',
    version: '1.2.6-6+b1',
    architecture: 'amd64',
    section: 'net',
    priority: 'standard',
    installedSize: 128,
    downloadSize: 50_240,
    maintainer: 'Josue Ortega <josue@debian.org>',
    description: 'converts RPC program numbers into universal addresses',
    units: ['rpcbind'],
  },
  {
    name: 'openssh-server',
    version: '1:9.2p1-2+deb12u7',
    architecture: 'amd64',
    section: 'net',
    priority: 'optional',
    installedSize: 1729,
    downloadSize: 456_308,
    maintainer: 'Debian OpenSSH Maintainers <debian-ssh@lists.debian.org>',
    description: 'secure shell (SSH) server, for secure access from remote machines',
    units: ['ssh'],
  },
  {
    name: 'cron',
    version: '3.0pl1-162',
    architecture: 'amd64',
    section: 'admin',
    priority: 'important',
    installedSize: 218,
    downloadSize: 99_428,
    maintainer: 'Javier Fernández-Sanguino Peña <jfs@debian.org>',
    description: 'process scheduling daemon',
    units: ['cron'],
  },
  {
    name: 'ca-certificates',
    version: '20230311',
    architecture: 'all',
    section: 'misc',
    priority: 'optional',
    installedSize: 393,
    downloadSize: 153_500,
    maintainer: 'Julien Cristau <jcristau@debian.org>',
    description: 'Common CA certificates',
  },
  {
    name: 'htop',
    version: '3.2.2-2',
    architecture: 'amd64',
    section: 'utils',
    priority: 'optional',
    installedSize: 380,
    downloadSize: 152_000,
    maintainer: 'Daniel Lange <DLange@debian.org>',
    description: 'interactive processes viewer',
  },
  {
    name: 'certbot',
    version: '2.1.0-4',
    architecture: 'all',
    section: 'web',
    priority: 'optional',
    installedSize: 57,
    downloadSize: 46_900,
    maintainer: 'Debian Let\u2019s Encrypt <team+letsencrypt@tracker.debian.org>',
    description: "automatically configure HTTPS using Let's Encrypt",
  },
  {
    name: 'zfsutils-linux',
    version: '2.3.4-pve1',
    architecture: 'amd64',
    section: 'contrib/admin',
    priority: 'optional',
    installedSize: 1866,
    downloadSize: 512_000,
    maintainer: 'Proxmox Support Team <support@proxmox.com>',
    description: 'command-line tools to manage OpenZFS filesystems',
    units: ['zfs-zed'],
  },
];

/** What a lab hypervisor has installed when seeded (a Proxmox VE node's packages of the catalogue). */
export const HYPERVISOR_PACKAGES = [
  'openssh-server',
  'cron',
  'rpcbind',
  'nfs-common',
  'nfs-kernel-server',
  'ca-certificates',
  'curl',
  'libcurl4',
  'zfsutils-linux',
];

/** What Proxmox's debian-12-standard template has installed (of the catalogue). */
export const CT_TEMPLATE_PACKAGES = ['openssh-server', 'cron', 'ca-certificates'];

export function cataloguePackage(name: string): CataloguePackage | undefined {
  return CATALOGUE.find((p) => p.name === name);
}
