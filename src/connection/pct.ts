// ansible_connection: pct — a container on a Proxmox VE hypervisor, reached through
// the hypervisor's own (reused) connection. `pct exec` without the Perl: pve-container
// src/PVE/CLI/pct.pm's `exec` loads the CT's config (PVE::LXC::Config->load_config: the
// CT is on this node) and then does `exec('lxc-attach', '-n', $vmid, '--', @extra-args)`,
// no option of its own (lxc-attach's default environment policy). So the connection checks
// once what pct would (root, the config, the CT running as PVE::LXC::check_running reads
// it) and runs each command as `lxc-attach -n <vmid> -- sh -c '<command line>'` on the
// hypervisor, its stdin passed through: no `pct` (~400 ms of Perl on a real host) per
// command. Nothing else runs on the hypervisor: the command line is one quoted operand
// of `sh -c` inside the CT.
import { UnreachableError } from '../errors.js';
import { activeCtsArgv, parseActiveCts } from '../proxmox/lxc-running.js';
import { shellJoin } from '../quote.js';
import type { Connection, ExecOptions, ExecResult } from './types.js';

export interface PctTarget {
  /** the container's inventory name */
  host: string;
  /** the hypervisor's inventory name */
  hypervisor: string;
  vmid: number;
  /** the hypervisor's connection, opened (or reused) by the run; throws UnreachableError */
  open(): Promise<Connection>;
}

/**
 * What lxc-attach prints when the container cannot be entered: the command never ran.
 * "Failed to get init pid" (lxc src/lxc/attach.c, get_attach_context) is a CT that
 * stopped (or went away: lxc_container_new accepts any name) since open() checked it.
 */
const NOT_ENTERED = /^lxc-attach: .*Failed to get init pid$/m;

/**
 * What `pct exec <vmid> -- <argv…>` execs (pve-container src/PVE/CLI/pct.pm, method exec:
 * `exec('lxc-attach', '-n', $param->{vmid}, '--', @{$param->{'extra-args'}})`).
 */
export const lxcAttachArgv = (vmid: number, argv: string[]): string[] => [
  'lxc-attach',
  '-n',
  String(vmid),
  '--',
  ...argv,
];

/** Marks getFile's "no such file" answer: not base64 (`-` is outside base64's alphabet). */
const NO_FILE = 'PHX-NO-FILE';

export class PctConnection implements Connection {
  readonly kind = 'pct' as const;
  private hv?: Connection;
  private opening?: Promise<void>;

  constructor(private readonly target: PctTarget) {}

  connect(): Promise<void> {
    this.opening ??= this.open();
    return this.opening;
  }

  private async open(): Promise<void> {
    const { host, hypervisor, vmid } = this.target;
    let hv: Connection;
    try {
      hv = await this.target.open();
    } catch (e) {
      throw new UnreachableError(`${host} (CT ${vmid} on ${hypervisor}): ${(e as Error).message}`);
    }
    // One round trip: lxc-attach needs root on the hypervisor; pct.pm's exec loads the config
    // (/etc/pve/lxc is nodes/<this node>/lxc: load_config's message names the node as
    // PVE::INotify::nodename, the short uname); the CT must run (check_running: its monitor
    // socket in /proc/net/unix). 96: the socket list is unreadable, `pct status` decides.
    const r = await hv.exec(
      [
        'export LC_ALL=C',
        '[ "$(id -u)" = 0 ] || { echo "logged in as $(id -un), not root" >&2; exit 97; }',
        `[ -e /etc/pve/lxc/${vmid}.conf ] || { n=$(uname -n); echo "Configuration file 'nodes/\${n%%.*}/lxc/${vmid}.conf' does not exist" >&2; exit 98; }`,
        `${shellJoin(activeCtsArgv())} || exit 96`,
      ].join('; '),
    );
    let state: string | undefined;
    if (r.rc === 0) state = parseActiveCts(r.stdout).has(vmid) ? 'running' : 'stopped';
    else if (r.rc === 96) state = await this.pctStatus(hv);
    if (state !== 'running') {
      const why =
        r.rc === 97
          ? `${r.stderr.trim()}: lxc-attach needs root`
          : state
            ? `status ${state}`
            : r.stderr.trim() || `exit ${r.rc}`;
      throw new UnreachableError(
        state
          ? `${host}: CT ${vmid} on ${hypervisor} is not running (${why})`
          : `${host}: cannot use CT ${vmid} on ${hypervisor}: ${why}`,
      );
    }
    this.hv = hv;
  }

  /** When /proc/1/net/unix cannot be read: `pct status` (PVE::CLI::pct's status: "status: <state>"). */
  private async pctStatus(hv: Connection): Promise<string> {
    const r = await hv.exec(`export LC_ALL=C; pct status ${this.target.vmid}`);
    const state = /^status: (\S+)$/m.exec(r.stdout)?.[1];
    if (r.rc !== 0 || !state)
      throw new UnreachableError(
        `${this.target.host}: cannot use CT ${this.target.vmid} on ${this.target.hypervisor}: ${r.stderr.trim() || 'no status'}`,
      );
    return state;
  }

  private hypervisorConnection(): Connection {
    if (!this.hv) throw new UnreachableError(`${this.target.host}: not connected`);
    return this.hv;
  }

  /** The hypervisor's command line that runs `script` (with `args` as $1…) inside the CT. */
  private line(script: string, args: string[] = []): string {
    return `export LC_ALL=C; exec ${shellJoin(lxcAttachArgv(this.target.vmid, ['sh', '-c', script, 'sh', ...args]))}`;
  }

  async exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    // the hypervisor runs our wrapper (it execs lxc-attach), not the caller's own script
    const { ownScript: _script, ownLocals: _locals, ...hvOpts } = opts;
    const r = await this.hypervisorConnection().exec(this.line(command), hvOpts);
    this.checkEntered(r);
    return r;
  }

  /** An lxc-attach failure to enter the CT is the host going away, not the command's failure. */
  private checkEntered(r: ExecResult): void {
    if (r.rc !== 0 && r.stdout === '' && NOT_ENTERED.test(r.stderr)) {
      const { host, hypervisor, vmid } = this.target;
      throw new UnreachableError(`${host}: CT ${vmid} on ${hypervisor} cannot be entered: ${r.stderr.trim()}`);
    }
  }

  /** Streams the bytes into the CT (one round trip, no temp file on the hypervisor): temp file + rename. */
  async putFile(path: string, data: Buffer, opts: { mode?: number } = {}): Promise<void> {
    if (!path.startsWith('/')) throw new Error(`putFile: ${JSON.stringify(path)} is not an absolute path`);
    const mode = (opts.mode ?? 0o644).toString(8);
    const script =
      'umask 077; t=$(mktemp "$1.phx-XXXXXX") || exit 1; ' +
      'if cat > "$t" && chmod "$2" "$t" && mv -f -- "$t" "$1"; then exit 0; fi; rm -f -- "$t"; exit 1';
    const r = await this.hypervisorConnection().exec(this.line(script, [path, mode]), { stdin: data });
    this.checkEntered(r);
    if (r.rc !== 0) throw new Error(`cannot write ${path} in CT ${this.target.vmid}: ${r.stderr.trim()}`);
  }

  /** The file's bytes as base64 through the command's stdout (binary-safe); null when it does not exist. */
  async getFile(path: string): Promise<Buffer | null> {
    if (!path.startsWith('/')) throw new Error(`getFile: ${JSON.stringify(path)} is not an absolute path`);
    const script = `if [ ! -e "$1" ]; then echo ${NO_FILE}; exit 0; fi; base64 < "$1"`;
    const r = await this.hypervisorConnection().exec(this.line(script, [path]));
    this.checkEntered(r);
    if (r.rc !== 0) throw new Error(`cannot read ${path} in CT ${this.target.vmid}: ${r.stderr.trim()}`);
    if (r.stdout.trim() === NO_FILE) return null;
    return Buffer.from(r.stdout.replace(/\s+/g, ''), 'base64');
  }

  /** The hypervisor's connection is the run's, closed once with the others. */
  async close(): Promise<void> {}
}
