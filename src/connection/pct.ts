// ansible_connection: pct — a container on a Proxmox VE hypervisor, reached through
// the hypervisor's own (reused) connection: every command runs as
// `pct exec <vmid> -- sh -c '<command line>'` on the hypervisor, its stdin passed
// through to the command inside the container. Nothing here runs on the hypervisor
// but `pct` itself: the command line is one quoted operand of `sh -c` inside the CT.
import { UnreachableError } from '../errors.js';
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
 * What pct (or lxc-attach behind it) prints when the container cannot be entered:
 * the command never ran. lxc-attach's "Failed to get init pid" (lxc src/lxc/attach.c,
 * get_attach_context) is a stopped CT; "Configuration file ... does not exist" is
 * PVE::LXC::Config->load_config for a CT that is not on this node (pve-container
 * src/PVE/CLI/pct.pm's exec loads the config first, then execs lxc-attach).
 */
const NOT_ENTERED = /^(?:lxc-attach: .*Failed to get init pid|Configuration file '[^']*' does not exist)$/m;

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
    // One round trip: pct needs root on the hypervisor, and the CT must be running
    // (`pct status` is PVE::CLI::pct's status: "status: <state>").
    const r = await hv.exec(
      `export LC_ALL=C; [ "$(id -u)" = 0 ] || { echo "logged in as $(id -un), not root" >&2; exit 97; }; pct status ${vmid}`,
    );
    const state = /^status: (\S+)$/m.exec(r.stdout)?.[1];
    if (r.rc !== 0 || state !== 'running') {
      const why = r.rc === 97 ? `${r.stderr.trim()}: pct needs root` : r.stderr.trim() || `status ${state ?? '?'}`;
      throw new UnreachableError(
        r.rc === 0
          ? `${host}: CT ${vmid} on ${hypervisor} is not running (${why})`
          : `${host}: cannot use CT ${vmid} on ${hypervisor}: ${why}`,
      );
    }
    this.hv = hv;
  }

  private hypervisorConnection(): Connection {
    if (!this.hv) throw new UnreachableError(`${this.target.host}: not connected`);
    return this.hv;
  }

  /** The hypervisor's command line that runs `script` (with `args` as $1…) inside the CT. */
  private line(script: string, args: string[] = []): string {
    return `export LC_ALL=C; exec ${shellJoin(['pct', 'exec', String(this.target.vmid), '--', 'sh', '-c', script, 'sh', ...args])}`;
  }

  async exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const r = await this.hypervisorConnection().exec(this.line(command), opts);
    this.checkEntered(r);
    return r;
  }

  /** A pct failure to enter the CT is the host going away, not the command's failure. */
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
