// The files that turn a directory into a lab host: the tool shims (first in
// root's PATH inside each host), the container-side systemctl, and the
// namespace setup script sshd is launched through.
import { mkdirSync, writeFileSync, chmodSync, existsSync, cpSync, readdirSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, resolve, dirname, relative, basename } from 'node:path';
import { CATALOGUE } from './sim/apt-catalogue.js';
import { CT_DEBS_DIR, CT_PACKAGE_DIR } from './sim/env.js';
import { fileURLToPath } from 'node:url';
import { HOST_DIRS } from './sim/seed.js';
import { PROC_NET_DIR } from './sim/active-cts.js';
import { clusterPveDir, nodeLinksDir, NODE_LINKS } from './cluster.js';

export const SIM_MAIN = resolve(dirname(fileURLToPath(import.meta.url)), 'sim/main.js');
const MOUNT_LINK = resolve(dirname(fileURLToPath(import.meta.url)), 'mount-link.js');
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const HYPERVISOR_TOOLS = [
  'pct',
  'pvesm',
  'qm',
  'zfs',
  'exportfs',
  'showmount',
  'rpcinfo',
  'systemctl',
  'pvenode',
  'pvecm',
  'pveversion',
  'apt-get',
  'apt',
  'apt-cache',
  'dpkg-query',
  'dpkg',
  'lxc-attach',
  'phx-lab-pve-version',
];
/** The tools a container gets from the lab (first in its PATH, /usr/local/sbin). */
export const CONTAINER_TOOLS = ['systemctl', 'apt-get', 'apt', 'apt-cache', 'dpkg-query', 'dpkg'];

function sq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function script(path: string, text: string): void {
  writeFileSync(path, text);
  chmodSync(path, 0o755);
}

// Inside the VM: units are marker files under /run/phx-lab/units (reset at `qm start`). Containers have
// sim/units.ts's systemctl (packages bring units there).
const VM_SYSTEMCTL = `#!/bin/sh
# phx-lab: systemctl inside the simulated VM
dir=/run/phx-lab/units
verb=
for a in "$@"; do case "$a" in -*) ;; *) if [ -z "$verb" ]; then verb=$a; else units="$units $a"; fi ;; esac; done
rc=0
for u in $units; do
  u=\${u%.service}
  case "$verb" in
    is-active) if [ -e "$dir/$u" ]; then echo active; else echo inactive; rc=3; fi ;;
    status) if [ -e "$dir/$u" ]; then echo "● $u.service"; echo "     Active: active (running)"; else echo "○ $u.service"; echo "     Active: inactive (dead)"; rc=3; fi ;;
    start|restart|reload-or-restart) mkdir -p "$dir" && date +%s > "$dir/$u" ;;
    stop) rm -f "$dir/$u" ;;
    reload) if [ ! -e "$dir/$u" ]; then echo "$u.service is not active, cannot reload." >&2; rc=1; continue; fi ;;
    enable|disable|daemon-reload) ;;
    *) echo "Unknown command verb $verb." >&2; exit 1 ;;
  esac
  [ "$verb" = is-active ] || [ "$verb" = status ] || echo "$(date -u +%FT%TZ) $verb $u" >> /var/log/phx-lab-systemctl.log
done
exit $rc
`;

/** Writes bin/ (hypervisor tools), bin-vm/ (docker and systemctl in the VM), bin-ct/ (systemctl and the
 *  package tools in containers), debs/ (package payloads) and usr-hide/ (what containers do not see of /usr). */
export function writeShims(labDir: string): void {
  const bin = join(labDir, 'bin');
  const binVm = join(labDir, 'bin-vm');
  const binCt = join(labDir, 'bin-ct');
  const debs = join(labDir, 'debs');
  const usrHide = join(labDir, 'usr-hide');
  for (const d of [bin, binVm, binCt]) mkdirSync(d, { recursive: true });
  // PHX_LAB_DIR: pvecm finds the other members' sshd pid files there (who is online)
  const env = `PHX_LAB_CT_BIN=${sq(binCt)} PHX_LAB_VM_BIN=${sq(binVm)} PHX_LAB_DIR=${sq(labDir)} PHX_LAB_DEBS=${sq(debs)} PHX_LAB_USR_HIDE=${sq(usrHide)}`;
  for (const tool of HYPERVISOR_TOOLS)
    script(join(bin, tool), `#!/bin/sh\n${env} exec ${sq(process.execPath)} ${sq(SIM_MAIN)} ${tool} "$@"\n`);
  script(join(binVm, 'docker'), `#!/bin/sh\nexec ${sq(process.execPath)} ${sq(SIM_MAIN)} docker "$@"\n`);
  // inside a container this package is at CT_PACKAGE_DIR (pct.ts ctBinds)
  const ctMain = join(CT_PACKAGE_DIR, relative(PACKAGE_ROOT, SIM_MAIN));
  for (const tool of CONTAINER_TOOLS)
    script(
      join(binCt, tool),
      `#!/bin/sh\nPHX_LAB_GUEST=ct PHX_LAB_DEBS=${CT_DEBS_DIR} exec ${sq(process.execPath)} ${sq(ctMain)} ${tool} "$@"\n`,
    );
  script(join(binVm, 'systemctl'), VM_SYSTEMCTL);
  writePayloads(debs);
  writeUsrHide(usrHide, debs);
}

/** Each package's payload, taken from this machine's own Debian package: nginx-common's /etc/nginx as
 *  Debian ships it (modules-enabled empty: its links come from the libnginx-mod-* packages), the default
 *  page the postinst puts in /var/www/html, and the directories the postinst makes. */
function writePayloads(debs: string): void {
  const nginx = join(debs, 'nginx-common');
  if (existsSync(join(nginx, 'etc/nginx/nginx.conf')) || !existsSync('/etc/nginx/nginx.conf')) return;
  rmSync(nginx, { recursive: true, force: true });
  mkdirSync(join(nginx, 'etc'), { recursive: true });
  cpSync('/etc/nginx', join(nginx, 'etc/nginx'), { recursive: true, verbatimSymlinks: true });
  const modules = join(nginx, 'etc/nginx/modules-enabled');
  for (const e of existsSync(modules) ? readdirSync(modules) : []) rmSync(join(modules, e), { force: true });
  for (const d of ['var/www/html', 'var/log/nginx', 'var/lib/nginx', 'etc/nginx/conf.d', 'etc/nginx/modules-enabled'])
    mkdirSync(join(nginx, d), { recursive: true });
  const page = '/usr/share/nginx/html/index.html';
  if (existsSync(page)) cpSync(page, join(nginx, 'var/www/html/index.nginx-debian.html'));
}

/** Per package with programs in /usr, two read-only overlay layers for a container's /usr (pct.ts ctBinds):
 *  `usr-hide/<pkg>` holds whiteouts (character device 0/0, overlayfs(5)) so the machine's program is "not
 *  found" until the package is installed there (`nginx` on a fresh template); `usr-wrap/<pkg>` replaces it
 *  once installed by a wrapper that runs a copy of the real program (debs/bin/) in a network namespace of
 *  its own, as a container has: `nginx -t` binds its listen ports to check them, which must not touch the
 *  machine's (and an unprivileged container's root may bind port 80 only in its own namespace). */
function writeUsrHide(dir: string, debs: string): void {
  for (const p of CATALOGUE)
    for (const f of p.usrFiles ?? []) {
      const rel = f.replace(/^\/usr\//, '');
      const w = join(dir, 'hide', p.name, rel);
      if (!existsSync(w)) {
        mkdirSync(dirname(w), { recursive: true });
        spawnSync('mknod', [w, 'c', '0', '0']);
      }
      const copy = join(debs, 'bin', basename(f));
      if (existsSync(f) && !existsSync(copy)) {
        mkdirSync(dirname(copy), { recursive: true });
        cpSync(f, copy);
      }
      const wrap = join(dir, 'wrap', p.name, rel);
      mkdirSync(dirname(wrap), { recursive: true });
      script(wrap, `#!/bin/sh\nexec unshare --net -- ${CT_DEBS_DIR}/bin/${basename(f)} "$@"\n`);
    }
}
/** The script sshd is launched through (in fresh mount + UTS namespaces): the host's own dirs over the real ones.
 *  In a cluster lab, /etc/pve is the cluster's shared directory with this node's own `local`/`lxc`/`qemu-server`. */
export function writeSetupScript(labDir: string, hostDir: string, name: string, cluster = false): string {
  const root = join(hostDir, 'root');
  // A host dir that contains the lab or the package cannot be covered (the shims live there).
  const dirs = HOST_DIRS.filter(
    (d) => !(labDir + '/').startsWith(d + '/') && !(PACKAGE_ROOT + '/').startsWith(d + '/'),
  );
  const comm = join(hostDir, 'proc1-comm');
  writeFileSync(comm, 'systemd\n');
  const lines = [
    '#!/bin/sh',
    '# phx-lab host setup: runs as root in a new mount namespace, then execs sshd',
    'set -e',
    `hostname ${sq(name)}`,
    `mkdir -p ${sq(join(hostDir, 'etc-work'))}`,
    // /etc: an overlay whose upper layer is the host's etc/; without overlayfs, at least /etc/pve and /etc/exports.d
    `if ! mount -t overlay phx-lab-etc -o ${sq(`lowerdir=/etc,upperdir=${root}/etc,workdir=${hostDir}/etc-work`)} /etc 2>/dev/null; then`,
    `  for d in pve exports.d; do mkdir -p "/etc/$d" ${sq(root + '/etc/')}"$d"; mount --bind ${sq(root + '/etc/')}"$d" "/etc/$d"; done`,
    'fi',
    ...dirs.flatMap((d) => [`mkdir -p ${sq(d)} ${sq(root + d)}`, `mount --bind ${sq(root + d)} ${sq(d)}`]),
    ...(cluster
      ? [
          `mkdir -p /etc/pve`,
          `mount --bind ${sq(clusterPveDir(labDir))} /etc/pve`,
          ...NODE_LINKS.map(
            ([link]) =>
              `${sq(process.execPath)} ${sq(MOUNT_LINK)} ${sq(`/etc/pve/${link}`)} ${sq(join(nodeLinksDir(hostDir), link))}`,
          ),
        ]
      : []),
    `mount --bind ${sq(join(labDir, 'bin'))} /usr/local/sbin`,
    // the host's own unix socket list where pve-container's check_running looks (lab/sim/active-cts.ts)
    `${sq(process.execPath)} ${sq(SIM_MAIN)} __publish-active-cts`,
    `mount --bind ${sq(PROC_NET_DIR)} /proc/1/net`,
    // PID 1 of a PVE node is systemd: service_mgr.py (and the service module's choice) read its comm
    `mount --bind ${sq(comm)} /proc/1/comm`,
    'exec "$@"',
    '',
  ];
  const path = join(hostDir, 'setup.sh');
  script(path, lines.join('\n'));
  return path;
}
