// The file-based readers that replace Proxmox CLI reads (issue 19), on text in
// the real formats:
// - which CTs run: pve-container src/PVE/LXC.pm, list_active_containers /
//   check_running (the monitor's abstract socket `@/var/lib/lxc/<vmid>/command`
//   in /proc/net/unix), lines as the kernel prints them (net/unix/af_unix.c,
//   unix_seq_show: "%pK: %08X %08X %08X %04X %02X %5lu" then " <path>", "@" for
//   an abstract name; pathless sockets end after the inode);
// - a CT's config as `pct config` shows it, from its file: pve-guest-common
//   src/PVE/AbstractConfig.pm load_current_config (pending values taken in,
//   pending deletes applied, snapshots and the pending section dropped) over
//   pve-container src/PVE/LXC/Config.pm parse_pct_config (`[pve:pending]` and
//   `[snapname]` sections; `#` lines are the description of their section);
//   the file as write_pct_config writes it (description comments first, keys
//   sorted, lxc.* after them, then [pve:pending], then the snapshots);
// - several reads in one `pct exec` (src/proxmox/ct-batch.ts), run by a real sh;
// - pveversion's line: pve-manager bin/pveversion prints PVE::pvecfg::package() . '/' .
//   PVE::pvecfg::version_text() and POSIX::uname's release; PVE/pvecfg.pm.in returns literals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { parseActiveCts, activeCtsArgv, UNIX_SOCKETS_FILE } from '../src/proxmox/lxc-running.js';
import { effectiveConfig, parsePctConfig } from '../src/proxmox/pct-config.js';
import { ctBatch } from '../src/proxmox/ct-batch.js';
import { parsePveVersion, pveversionLineFromPvecfg } from '../src/proxmox/pve-version.js';

const PROC_NET_UNIX = `Num       RefCount Protocol Flags    Type St Inode Path
0000000000000000: 00000002 00000000 00010000 0001 01 18211 /run/systemd/private
0000000000000000: 00000002 00000000 00010000 0001 01 40101 @/var/lib/lxc/101/command
0000000000000000: 00000003 00000000 00000000 0001 03 40388 @/var/lib/lxc/101/command
0000000000000000: 00000003 00000000 00000000 0001 03 40389
0000000000000000: 00000002 00000000 00010000 0001 01 41005 @/var/lib/lxc/1005/command
0000000000000000: 00000002 00000000 00010000 0001 01 41006 /var/lib/lxc/102/command
0000000000000000: 00000002 00000000 00010000 0001 01 41007 @/var/lib/lxc/103/command2
0000000000000000: 00000002 00000000 00010000 0001 01 41008 @/var/lib/lxc/104/commandx/y
0000000000000000: 00000002 00000000 00010000 0001 01 41009 @/var/lib/lxc/abc/command
0000000000000000: 00000002 00000000 00010000 0001 01 @/var/lib/lxc/105/command
`;

test('running CTs: the abstract monitor sockets of /proc/net/unix, as list_active_containers matches them', () => {
  // 101 (listening and an accepted connection, which carries the same name) and 1005 run;
  // a path socket (not abstract), other names, a line without an inode: not a running CT
  assert.deepEqual(
    [...parseActiveCts(PROC_NET_UNIX)].sort((a, b) => a - b),
    [101, 1005],
  );
  assert.deepEqual([...parseActiveCts('Num       RefCount Protocol Flags    Type St Inode Path\n')], []);
  assert.deepEqual([...parseActiveCts('')], []);
});

test('running CTs: the host command reads the host namespace file and keeps only monitor lines (none is no error)', () => {
  const argv = activeCtsArgv();
  assert.equal(argv[argv.length - 1], UNIX_SOCKETS_FILE);
  // run it on this machine on a copy of the fixture: what the module then parses
  const file = `/tmp/phx-unix-${process.pid}`;
  const w = spawnSync('sh', ['-c', 'cat > "$1"', 'sh', file], { input: PROC_NET_UNIX });
  assert.equal(w.status, 0);
  const r = spawnSync(argv[0], [...argv.slice(1, -1), file], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.deepEqual(
    [...parseActiveCts(r.stdout)].sort((a, b) => a - b),
    [101, 1005],
  );
  assert.ok(!r.stdout.includes('systemd'), 'only the monitor lines cross the network');
  const none = spawnSync('sh', ['-c', 'printf "Num x\\n" > "$1"', 'sh', file]);
  assert.equal(none.status, 0);
  const r2 = spawnSync(argv[0], [...argv.slice(1, -1), file], { encoding: 'utf8' });
  assert.equal(r2.status, 0, 'no CT running is not a failure');
  assert.equal(r2.stdout, '');
  const missing = spawnSync(argv[0], [...argv.slice(1, -1), `${file}.missing`], { encoding: 'utf8' });
  assert.notEqual(missing.status, 0, 'an unreadable file is a failure, not "nothing runs"');
  spawnSync('rm', ['-f', file]);
});

// written as write_pct_config writes it: description, sorted keys, lxc.*, [pve:pending], snapshots
const CONF_FILE = `#web server
#second line 100%25
arch: amd64
cores: 2
hostname: web
memory: 1024
mp0: /tank/data,mp=/data
net0: name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:01,ip=dhcp,type=veth
ostype: debian
parent: before-upgrade
rootfs: local-zfs:subvol-105-disk-0,size=8G
swap: 512
unprivileged: 1
lxc.idmap: u 0 100000 1005
lxc.idmap: u 1005 1005 1

[pve:pending]
#new description
cores: 4
delete: swap,mp0
memory: 2048

[before-upgrade]
#old description
arch: amd64
cores: 1
hostname: web-old
memory: 512
rootfs: local-zfs:subvol-105-disk-0@before-upgrade,size=8G
snaptime: 1700000000
unprivileged: 1
`;

test('CT config file read as `pct config` shows it: pending values in, pending deletes applied, snapshots ignored', () => {
  const shown = effectiveConfig(parsePctConfig(CONF_FILE));
  assert.deepEqual(shown.keys, {
    arch: 'amd64',
    cores: '4',
    // parse_pct_config gives the pending section its own description; load_current_config takes it in
    description: 'new description',
    hostname: 'web',
    memory: '2048',
    net0: 'name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:01,ip=dhcp,type=veth',
    ostype: 'debian',
    parent: 'before-upgrade',
    rootfs: 'local-zfs:subvol-105-disk-0,size=8G',
    unprivileged: '1',
  });
  assert.deepEqual(shown.lxc, [
    { key: 'lxc.idmap', value: 'u 0 100000 1005' },
    { key: 'lxc.idmap', value: 'u 1005 1005 1' },
  ]);
  // `pct config --current`: the file's own section only
  const current = parsePctConfig(CONF_FILE);
  assert.equal(current.keys.cores, '2');
  assert.equal(current.keys.description, 'web server\nsecond line 100%');
  assert.equal(current.keys.swap, '512');
});

test('several reads in one pct exec: each one its output and exit code, in order (run by a real sh)', () => {
  const b = ctBatch(101, [
    ['printf', '%s\\n', 'sha256 Fingerprint=AA:BB'],
    ['sh', '-c', 'echo "cannot stat it" >&2; exit 1'],
    ['printf', '%s', "no newline, a ' quote and $HOME"],
  ]);
  assert.deepEqual(b.argv.slice(0, 6), ['pct', 'exec', '101', '--', 'sh', '-c']);
  // what the container's sh does with the script
  const r = spawnSync('sh', ['-c', b.argv[6]], { encoding: 'utf8' });
  const parts = b.split({ rc: r.status ?? -1, stdout: r.stdout, stderr: r.stderr });
  assert.deepEqual(
    parts.map((p) => [p.rc, p.stdout]),
    [
      [0, 'sha256 Fingerprint=AA:BB\n'],
      [1, 'cannot stat it\n'],
      [0, "no newline, a ' quote and $HOME"],
    ],
  );
  // pct itself failed (no markers): its own answer for each read
  const failed = { rc: 2, stdout: '', stderr: "Configuration file 'nodes/pve1/lxc/101.conf' does not exist\n" };
  assert.deepEqual(b.split(failed), [failed, failed, failed]);
});

// pve-manager PVE/pvecfg.pm.in after the build's substitution of @PACKAGE@, @VERSION@, @PVERELEASE@, @REPOID@
const PVECFG_PM = `package PVE::pvecfg;

use strict;
use warnings;

sub package {
    return 'pve-manager';
}

sub version {
    return '8.4.1';
}

sub release {
    return '8.4';
}

sub repoid {
    return '2a5fa54a8503f96d';
}

sub version_text {
    return '8.4.1/2a5fa54a8503f96d';
}

# this is returned by the API
sub version_info {
    return {
	'version' => '8.4.1',
	'release' => '8.4',
	'repoid' => '2a5fa54a8503f96d',
    }
}

1;
`;

test("pveversion's line from PVE/pvecfg.pm and uname -r (bin/pveversion: package()/version_text() (running kernel: uname))", () => {
  const line = pveversionLineFromPvecfg(PVECFG_PM, '6.8.12-9-pve\n');
  assert.equal(line, 'pve-manager/8.4.1/2a5fa54a8503f96d (running kernel: 6.8.12-9-pve)');
  assert.deepEqual(parsePveVersion(line), {
    major: 8,
    minor: 4,
    patch: 1,
    text: '8.4.1',
    kernel: '6.8.12-9-pve',
  });
  // anything but plain literals: keep the tool
  assert.equal(
    pveversionLineFromPvecfg(PVECFG_PM.replace("'8.4.1/2a5fa54a8503f96d'", 'version() . "/x"'), '6.8'),
    undefined,
  );
  assert.equal(
    pveversionLineFromPvecfg(PVECFG_PM.replace("return 'pve-manager'", "return 'pve\\'x'"), '6.8'),
    undefined,
  );
  assert.equal(pveversionLineFromPvecfg('', '6.8'), undefined);
  assert.equal(pveversionLineFromPvecfg(PVECFG_PM, ''), undefined);
});
