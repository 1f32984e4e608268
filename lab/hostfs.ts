// The files that turn a directory into a lab host: the tool shims (first in
// root's PATH inside each host), the container-side systemctl, and the
// namespace setup script sshd is launched through.
import { mkdirSync, writeFileSync, chmodSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
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
  'lxc-attach',
  'phx-lab-pve-version',
];

function sq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function script(path: string, text: string): void {
  writeFileSync(path, text);
  chmodSync(path, 0o755);
}

// Inside a container or the VM: units are marker files under /run/phx-lab/units (reset at `pct start`/`qm start`).
const CT_SYSTEMCTL = `#!/bin/sh
# phx-lab: systemctl inside a simulated container
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

/** Writes bin/ (hypervisor tools), bin-vm/ (docker in the VM), bin-ct/ (systemctl in containers). */
export function writeShims(labDir: string): void {
  const bin = join(labDir, 'bin');
  const binVm = join(labDir, 'bin-vm');
  const binCt = join(labDir, 'bin-ct');
  for (const d of [bin, binVm, binCt]) mkdirSync(d, { recursive: true });
  // PHX_LAB_DIR: pvecm finds the other members' sshd pid files there (who is online)
  const env = `PHX_LAB_CT_BIN=${sq(binCt)} PHX_LAB_VM_BIN=${sq(binVm)} PHX_LAB_DIR=${sq(labDir)}`;
  for (const tool of HYPERVISOR_TOOLS)
    script(join(bin, tool), `#!/bin/sh\n${env} exec ${sq(process.execPath)} ${sq(SIM_MAIN)} ${tool} "$@"\n`);
  script(join(binVm, 'docker'), `#!/bin/sh\nexec ${sq(process.execPath)} ${sq(SIM_MAIN)} docker "$@"\n`);
  script(join(binCt, 'systemctl'), CT_SYSTEMCTL);
  script(join(binVm, 'systemctl'), CT_SYSTEMCTL.replace('inside a simulated container', 'inside the simulated VM'));
}

/** The script sshd is launched through (in fresh mount + UTS namespaces): the host's own dirs over the real ones.
 *  In a cluster lab, /etc/pve is the cluster's shared directory with this node's own `local`/`lxc`/`qemu-server`. */
export function writeSetupScript(labDir: string, hostDir: string, name: string, cluster = false): string {
  const root = join(hostDir, 'root');
  // A host dir that contains the lab or the package cannot be covered (the shims live there).
  const dirs = HOST_DIRS.filter(
    (d) => !(labDir + '/').startsWith(d + '/') && !(PACKAGE_ROOT + '/').startsWith(d + '/'),
  );
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
    'exec "$@"',
    '',
  ];
  const path = join(hostDir, 'setup.sh');
  script(path, lines.join('\n'));
  return path;
}
