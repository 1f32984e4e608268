// Issue 11 item 2 through the real CLI: a value that would add a key to the
// format it is written into (a "," in a property string value, a line break in a
// CT config line, a "," in a mount option or list element) or that a tool would
// read as an option (a leading "-") is refused. Written literally, the playbook
// does not validate (exit 1, the argument and the reason named, nothing ran);
// templated, the task fails before any command. The hypervisor tools are fake
// scripts on PATH that log every call: the templated good value reaches them
// (the control), the bad one never does.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { runCli, workspace } from './helpers/cli.js';

type Ws = ReturnType<typeof workspace>;
type Args = Record<string, unknown>;

interface Attack {
  title: string;
  module: string;
  /** the arguments with BAD where the hostile value goes */
  args: Args;
  bad: unknown;
  /** the same place with a value that is fine */
  good: unknown;
  /** the argument path the error names */
  names: string;
  why: RegExp;
  /** no fake tool stands for the module's commands: only the literal form is run */
  literalOnly?: boolean;
}

const BAD = '__BAD__';
const PCT = { ctid: 105, ostemplate: 'local:vztmpl/debian-12.tar.zst' };
const PVESM = { id: 'nfs1', type: 'nfs', server: '10.0.0.5', export: '/srv/nfs', nfs_timeout: 5 };
const DOCKER = { name: 'media' };

const ATTACKS: Attack[] = [
  {
    title: 'pct: shared "0,ro=0" would make a read-only mount read-write',
    module: 'pct',
    args: { ...PCT, mounts: [{ path: '/data', volume: 'local:8', ro: true, options: { shared: BAD } }] },
    bad: '0,ro=0',
    good: '0',
    names: 'mounts.0.options.shared',
    why: /must not contain commas/,
  },
  {
    title: 'pct: bridge "vmbr0,firewall=0" would turn the firewall off',
    module: 'pct',
    args: { ...PCT, net0: { name: 'eth0', bridge: BAD, firewall: 1 } },
    bad: 'vmbr0,firewall=0',
    good: 'vmbr0',
    names: 'net0.bridge',
    why: /must not contain commas/,
  },
  {
    title: 'pct: a newline in tags would write an lxc.cap.drop line',
    module: 'pct',
    args: { ...PCT, tags: BAD },
    bad: 'web\nlxc.cap.drop:',
    good: 'web',
    names: 'tags',
    why: /one line/,
  },
  {
    title: 'pct: a newline in hostname would write an lxc.cap.drop line',
    module: 'pct',
    args: { ...PCT, hostname: BAD },
    bad: 'web\nlxc.cap.drop:',
    good: 'web',
    names: 'hostname',
    why: /one line/,
  },
  {
    title: 'pct: a hostname starting with "-"',
    module: 'pct',
    args: { ...PCT, hostname: BAD },
    bad: '-web',
    good: 'web',
    names: 'hostname',
    why: /must not start with "-"/,
  },
  {
    title: 'pct: an ostemplate starting with "-" would be read as an option',
    module: 'pct',
    args: { ...PCT, ostemplate: BAD },
    bad: '--unprivileged=0',
    good: 'local:vztmpl/debian-12.tar.zst',
    names: 'ostemplate',
    why: /must not start with "-"/,
  },
  {
    title: 'pct: a whole net0 string naming a key twice',
    module: 'pct',
    args: { ...PCT, net0: BAD },
    bad: 'name=eth0,bridge=vmbr0,bridge=vmbr1',
    good: 'name=eth0,bridge=vmbr0',
    names: 'net0',
    why: /names bridge twice/,
  },
  {
    title: 'pct: a line break in the whole rootfs string',
    module: 'pct',
    args: { ...PCT, rootfs: BAD },
    bad: 'local:8\nlxc.cap.drop:',
    good: 'local:8',
    names: 'rootfs',
    why: /one line/,
  },
  {
    title: 'pct: a mount path with "," would add a key',
    module: 'pct',
    args: { ...PCT, mounts: [{ path: BAD, volume: 'local:8' }] },
    bad: '/data,ro=0',
    good: '/data',
    names: 'mounts.0.path',
    why: /must not contain commas/,
  },
  {
    title: 'pct: a config value with a line break',
    module: 'pct',
    args: { ...PCT, config: { cmode: BAD } },
    bad: 'tty\nlxc.cap.drop:',
    good: 'tty',
    names: 'config.cmode',
    why: /one line/,
  },
  {
    title: 'pct: a NUL in description',
    module: 'pct',
    args: { ...PCT, description: BAD },
    bad: 'a\0b',
    good: 'a\nb',
    names: 'description',
    why: /NUL/,
  },
  {
    title: 'pvesm: a node name with "," would add a node',
    module: 'pvesm',
    args: { ...PVESM, nodes: ['pve1', BAD] },
    bad: 'pve2,pve3',
    good: 'pve2',
    names: 'nodes.1',
    why: /must not contain commas/,
  },
  {
    title: 'pvesm: an NFS mount option value with "," would add an option',
    module: 'pvesm',
    args: { ...PVESM, options: { vers: BAD } },
    bad: '4.2,nolock',
    good: '4.2',
    names: 'options.vers',
    why: /would add a mount option/,
  },
  {
    title: 'pvesm: a NUL in a storage value',
    module: 'pvesm',
    args: { ...PVESM, options: BAD },
    bad: 'vers=4\0',
    good: 'vers=4',
    names: 'options',
    why: /NUL/,
  },
  {
    title: 'docker_volume: an o mapping value with "," would add a mount option',
    module: 'docker_volume',
    args: { ...DOCKER, options: { type: 'nfs', device: ':/srv/nfs/media', o: { addr: BAD, rw: true } } },
    bad: '10.0.0.5,ro=0',
    good: '10.0.0.5',
    names: 'options.o.addr',
    why: /would add a mount option/,
  },
  {
    title: 'docker_volume: an option value with a line break',
    module: 'docker_volume',
    args: { ...DOCKER, options: { type: 'nfs', device: BAD } },
    bad: ':/srv/nfs\nx',
    good: ':/srv/nfs/media',
    names: 'options.device',
    why: /one line/,
  },
  // item 9: names a tool would read as an option
  {
    title: 'pvesm: a storage id starting with "-"',
    module: 'pvesm',
    args: { ...PVESM, id: BAD },
    bad: '-nfs1',
    good: 'nfs2',
    names: 'id',
    why: /illegal characters/,
  },
  {
    title: 'pct: a storage starting with "-"',
    module: 'pct',
    args: { ...PCT, storage: BAD },
    bad: '--delete=rootfs',
    good: 'local-zfs',
    names: 'storage',
    why: /must not start with "-"/,
  },
  {
    title: 'docker_volume: a volume name starting with "-"',
    module: 'docker_volume',
    args: { ...DOCKER, name: BAD },
    bad: '-q',
    good: 'media2',
    names: 'name',
    why: /not starting with \. or -/,
  },
  {
    title: 'cert_hook: a key owner starting with "-" (chown reads it before its --)',
    module: 'cert_hook',
    args: { name: 'web', cert: '/etc/ssl/web.pem', key: '/etc/ssl/web.key', key_owner: BAD },
    bad: '-R',
    good: 'root',
    names: 'key_owner',
    why: /must not start with "-"/,
    literalOnly: true,
  },
  {
    title: 'pve_firewall: a blank in a rule source would add a parameter (-dport 22: any port)',
    module: 'pve_firewall',
    args: { vmid: 1001, rules: [{ type: 'in', action: 'ACCEPT', proto: 'tcp', dport: 9443, source: BAD }] },
    bad: '10.0.0.101 -dport 22',
    good: '10.0.0.101',
    names: 'rules.0.source',
    why: /must not contain blanks/,
    literalOnly: true,
  },
  {
    title: 'pve_firewall: a line break in a rule comment would add a rule',
    module: 'pve_firewall',
    args: { vmid: 1001, rules: [{ type: 'in', action: 'DROP', comment: BAD }] },
    bad: 'x\nIN ACCEPT',
    good: 'x',
    names: 'rules.0.comment',
    why: /one line/,
    literalOnly: true,
  },
];

/** `args` with BAD replaced by `value`. */
function fill(v: unknown, value: unknown): unknown {
  if (v === BAD) return value;
  if (Array.isArray(v)) return v.map((x) => fill(x, value));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x, value)]));
  return v;
}

/** JSON is YAML: the values (with their \n and \u0000) reach the playbook exactly. */
function playbook(module: string, args: unknown, vars: Args = {}): string {
  return `- hosts: h1\n  gather_facts: false\n  vars: ${JSON.stringify(vars)}\n  tasks:\n    - name: the task\n      ${module}: ${JSON.stringify(args)}\n`;
}

/** Fake pct/pvesm/docker that log their argv; docker inspect knows no volume; the NFS server answers. */
function fakeTools(ws: Ws): void {
  const log = ws.path('calls.log');
  ws.write('bin/rpcinfo', '#!/bin/sh\necho "program 100003 version 4 ready and waiting"\n');
  chmodSync(ws.path('bin/rpcinfo'), 0o755);
  // PVE's NFS check (NFSPlugin.pm check_connection) for v3: showmount exits 0
  ws.write('bin/showmount', '#!/bin/sh\necho "/srv/nfs *"\n');
  chmodSync(ws.path('bin/showmount'), 0o755);
  for (const tool of ['pct', 'pvesm', 'docker']) {
    ws.write(
      `bin/${tool}`,
      `#!/bin/sh\nprintf '%s\\n' "${tool} $*" >> '${log}'\n` +
        (tool === 'docker' ? `[ "$2" = inspect ] && { echo "Error: No such volume: $3" >&2; exit 1; }\n` : '') +
        'exit 0\n',
    );
    chmodSync(ws.path(`bin/${tool}`), 0o755);
  }
}

describe('values never add keys (CLI, local connection, fake hypervisor tools)', () => {
  let ws: Ws;
  before(() => {
    ws = workspace({ 'inv.ini': '[all]\nh1 ansible_connection=local\n' });
    fakeTools(ws);
  });
  after(() => ws.cleanup());

  const run = (yaml: string, extra: string[] = []) => {
    ws.write('pb.yml', yaml);
    rmSync(ws.path('calls.log'), { force: true });
    return runCli(['-i', ws.path('inv.ini'), ws.path('pb.yml'), ...extra], {
      cwd: ws.dir,
      env: { PATH: `${ws.path('bin')}:${process.env.PATH}` },
    });
  };
  const calls = () => (existsSync(ws.path('calls.log')) ? readFileSync(ws.path('calls.log'), 'utf8') : '');

  for (const a of ATTACKS) {
    it(`${a.title}: written literally, the playbook does not validate`, async () => {
      const r = await run(playbook(a.module, fill(a.args, a.bad)), ['--syntax-check']);
      const out = r.stdout + r.stderr;
      assert.equal(r.code, 1, out);
      assert.ok(out.includes(`argument '${a.names}' of module '${a.module}'`), out);
      assert.match(out, a.why);
      assert.match(out, /nothing was run/);
    });

    if (a.literalOnly) continue;
    it(`${a.title}: templated, the task fails before any command`, async () => {
      const r = await run(playbook(a.module, fill(a.args, '{{ value }}'), { value: a.bad }));
      const out = r.stdout + r.stderr;
      assert.match(out, /FAILED/, out);
      assert.ok(out.includes(a.names), out);
      assert.match(out, a.why);
      assert.equal(calls(), '', 'no hypervisor tool ran');
      // the control: the same task with a good value reaches the tool
      const ok = await run(playbook(a.module, fill(a.args, '{{ value }}'), { value: a.good }));
      assert.match(calls(), new RegExp(`^${a.module === 'docker_volume' ? 'docker' : a.module} `, 'm'), ok.stdout);
    });
  }
});
