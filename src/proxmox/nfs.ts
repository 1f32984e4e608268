// Waiting for an NFS export to be usable, from the host that will mount it
// (where `pvesm add nfs` or a docker NFS volume runs). The whole wait loop
// runs ON the host as one small sh script: one SSH round trip however long the
// wait, instead of one per probe. Used by the nfs_wait and pvesm modules.
//
// Probes per attempt (each can be left out, see NfsWaitOptions):
//   1. `showmount -e --no-headers <server>`: either it lists the export path
//      or a parent of it (a subdirectory of an export mounts too), or (PVE's
//      own v3 test) it merely exits 0;
//   2. `rpcinfo -T tcp <server> nfs 4` (`rpcinfo -t <server> nfs 3` for v3)
//      says "ready and waiting";
//   3. only when rpcinfo did not answer: a TCP connect to the NFS port (nc,
//      or bash's /dev/tcp). rpcinfo over TCP already proves the port answers,
//      so when it succeeds the TCP probe is skipped and reported as such.
// Ready = 1 and (2 or 3), for the probes that run.
//
// pvesm's `pveOnlineCheck` is PVE's own test (pve-storage
// src/PVE/Storage/NFSPlugin.pm, check_connection), which `pvesm add nfs` runs
// before it writes anything: options matching /vers=4.*/ → rpcinfo, else a TCP
// ping of 2049 (or options' port=N; port=0 means offline); otherwise only
// `showmount --no-headers --exports <server>` exiting 0.
import { ModuleError, type ModuleContext } from '../module.js';

export interface NfsWaitOptions {
  server: string;
  export: string;
  /** seconds; 0 = probe once */
  timeout: number;
  /** seconds between attempts */
  interval: number;
  nfsVersion: 3 | 4;
  /** true: `showmount -e` must list the export or a parent of it; 'answers': it must exit 0; false: not run */
  showmount: boolean | 'answers';
  /** run rpcinfo (then the TCP probe); default true */
  rpc?: boolean;
  /** the TCP probe's port; default 2049; 0 = the probe fails (as PVE's check does) */
  port?: number;
}

/** The probes `pvesm add nfs` makes (NFSPlugin.pm check_connection), for storage `options`. */
export function pveOnlineCheck(
  options: string | null | undefined,
): Pick<NfsWaitOptions, 'showmount' | 'rpc' | 'port' | 'nfsVersion'> {
  const opts = options ?? '';
  // the same regexes as check_connection: /vers=4.*/ also matches nfsvers=4, /port=(\d+)/ also mountport=
  if (!/vers=4/.test(opts)) return { showmount: 'answers', rpc: false, nfsVersion: 3 };
  const port = /port=(\d+)/.exec(opts);
  return { showmount: false, rpc: true, nfsVersion: 4, port: port ? Number(port[1]) : 2049 };
}

export interface ProbeOutput {
  rc: number;
  output: string;
}

export interface NfsWaitOutcome {
  ready: boolean;
  /** seconds waited on the host (0.1 s precision where `date +%N` works, else whole seconds) */
  elapsed: number;
  attempts: number;
  /** the last attempt's probes */
  showmount?: ProbeOutput & { listed: boolean };
  rpcinfo?: ProbeOutput;
  tcp?: ProbeOutput & { skipped: boolean; port: number };
}

const MARK = '@@phx-nfs-wait@@';

// Positional parameters: $1 server, $2 export, $3 timeout in ms, $4 interval,
// $5 nfs version, $6 showmount (1 = must list, answers = exit 0, 0 = not run),
// $7 run rpcinfo (1/0), $8 TCP port. Values never become code: they are only
// ever expanded inside double quotes or here-documents.
const SCRIPT = `
server=$1 export_path=$2 limit_ms=$3 interval=$4 vers=$5 use_showmount=$6 use_rpc=$7 port=$8
transport=tcp
case $server in *:*) transport=tcp6 ;; esac
M='${MARK}'
to=
if command -v timeout >/dev/null 2>&1; then to='timeout 10'; fi
now_ms() {
  t=$(date +%s%N 2>/dev/null)
  case $t in
    ''|*[!0-9]*) echo $(( $(date +%s) * 1000 )) ;;
    *) echo $(( t / 1000000 )) ;;
  esac
}
start=$(now_ms)
attempts=0
while :; do
  attempts=$((attempts + 1))
  sm_out= sm_rc=0 listed=1
  if [ "$use_showmount" != 0 ]; then
    listed=0
    sm_out=$($to showmount -e --no-headers "$server" 2>&1)
    sm_rc=$?
    if [ "$sm_rc" -eq 0 ] && [ "$use_showmount" = answers ]; then listed=1; fi
    if [ "$sm_rc" -eq 0 ] && [ "$use_showmount" = 1 ]; then
      while IFS= read -r line; do
        # the export itself, or a directory above it (its first field, paths may hold spaces)
        p=$export_path
        while :; do
          case $line in
            "$p"|"$p "*|"$p	"*) listed=1; break ;;
          esac
          if [ "$p" = / ] || [ -z "$p" ]; then break; fi
          p=\${p%/*}
          [ -z "$p" ] && p=/
        done
      done <<PHX_EOF
$sm_out
PHX_EOF
    fi
  fi
  rpc_out= rpc_rc=1 tcp_out= tcp_rc=0 tcp_skipped=1
  if [ "$use_rpc" = 1 ]; then
    if [ "$vers" = 4 ]; then
      rpc_out=$($to rpcinfo -T "$transport" "$server" nfs 4 2>&1)
    else
      rpc_out=$($to rpcinfo -t "$server" nfs "$vers" 2>&1)
    fi
    rpc_rc=$?
  fi
  if [ "$use_rpc" = 1 ] && [ "$rpc_rc" -ne 0 ]; then
    tcp_skipped=0
    if [ "$port" = 0 ]; then
      tcp_out='port=0: no TCP probe (PVE counts the storage offline)'
      tcp_rc=1
    elif command -v nc >/dev/null 2>&1; then
      tcp_out=$($to nc -z -w 3 "$server" "$port" 2>&1)
      tcp_rc=$?
    elif command -v bash >/dev/null 2>&1; then
      tcp_out=$($to bash -c 'exec 3<>"/dev/tcp/$1/$2"' phx-tcp-probe "$server" "$port" 2>&1)
      tcp_rc=$?
    else
      tcp_out='no nc or bash on this host for a TCP probe'
      tcp_rc=127
    fi
    [ "$tcp_rc" -ne 0 ] && [ -z "$tcp_out" ] && tcp_out="TCP connect to $server:$port failed"
  fi
  ready=0
  if [ "$listed" = 1 ] && { [ "$use_rpc" != 1 ] || [ "$rpc_rc" -eq 0 ] || [ "$tcp_rc" -eq 0 ]; }; then ready=1; fi
  elapsed=$(( $(now_ms) - start ))
  if [ "$ready" = 1 ] || [ "$elapsed" -ge "$limit_ms" ]; then break; fi
  sleep "$interval"
done
printf '%s status ready=%s elapsed_ms=%s attempts=%s\\n' "$M" "$ready" "$elapsed" "$attempts"
if [ "$use_showmount" != 0 ]; then
  printf '%s showmount rc=%s listed=%s\\n%s\\n' "$M" "$sm_rc" "$listed" "$sm_out"
fi
if [ "$use_rpc" = 1 ]; then
  printf '%s rpcinfo rc=%s\\n%s\\n' "$M" "$rpc_rc" "$rpc_out"
  printf '%s tcp rc=%s skipped=%s port=%s\\n%s\\n' "$M" "$tcp_rc" "$tcp_skipped" "$port" "$tcp_out"
fi
printf '%s end\\n' "$M"
`;

/** Strips trailing slashes as showmount prints paths without them. */
export function normalizeExportPath(p: string): string {
  return p.length > 1 ? p.replace(/\/+$/, '') : p;
}

/** The one command that waits on the host. */
export function nfsWaitArgv(o: NfsWaitOptions): string[] {
  return [
    'sh',
    '-c',
    SCRIPT,
    'phx-nfs-wait',
    o.server,
    normalizeExportPath(o.export),
    String(Math.max(0, Math.round(o.timeout * 1000))),
    String(o.interval),
    String(o.nfsVersion),
    o.showmount === 'answers' ? 'answers' : o.showmount ? '1' : '0',
    o.rpc === false ? '0' : '1',
    String(o.port ?? 2049),
  ];
}

/** Reads the script's report. Throws if it is not there (the script did not run). */
export function parseNfsWait(stdout: string): NfsWaitOutcome {
  const sections = new Map<string, { head: string; body: string[] }>();
  let current: { head: string; body: string[] } | undefined;
  let ended = false;
  for (const line of stdout.split('\n')) {
    if (line.startsWith(MARK + ' ')) {
      const head = line.slice(MARK.length + 1);
      const name = head.split(' ')[0];
      if (name === 'end') {
        ended = true;
        break;
      }
      current = { head, body: [] };
      sections.set(name, current);
      continue;
    }
    current?.body.push(line);
  }
  const status = sections.get('status');
  if (!status || !ended)
    throw new ModuleError(`the NFS wait script did not report (output: ${stdout.trim().slice(0, 300) || 'none'})`);
  const field = (head: string, k: string) => new RegExp(`(?:^| )${k}=(\\S*)`).exec(head)?.[1] ?? '';
  const num = (head: string, k: string) => Number(field(head, k)) || 0;
  const body = (s: { body: string[] }) => s.body.join('\n').replace(/\n+$/, '');
  const out: NfsWaitOutcome = {
    ready: field(status.head, 'ready') === '1',
    elapsed: Math.round(num(status.head, 'elapsed_ms') / 100) / 10,
    attempts: num(status.head, 'attempts'),
  };
  const sm = sections.get('showmount');
  if (sm) out.showmount = { rc: num(sm.head, 'rc'), listed: field(sm.head, 'listed') === '1', output: body(sm) };
  const rpc = sections.get('rpcinfo');
  if (rpc) out.rpcinfo = { rc: num(rpc.head, 'rc'), output: body(rpc) };
  const tcp = sections.get('tcp');
  if (tcp)
    out.tcp = {
      rc: num(tcp.head, 'rc'),
      skipped: field(tcp.head, 'skipped') === '1',
      port: num(tcp.head, 'port') || 2049,
      output: body(tcp),
    };
  return out;
}

/** What the last attempt saw, for messages: one line per probe. */
export function describeProbes(
  o: NfsWaitOutcome,
  opts: Pick<NfsWaitOptions, 'server' | 'export' | 'nfsVersion'> & { showmount?: NfsWaitOptions['showmount'] },
): string {
  const lines: string[] = [];
  const oneLine = (s: string) => s.trim().replace(/\s*\n\s*/g, ' | ') || '(no output)';
  if (o.showmount) {
    const what =
      o.showmount.rc !== 0
        ? `failed (rc ${o.showmount.rc})`
        : opts.showmount === 'answers'
          ? 'answers'
          : o.showmount.listed
            ? 'lists the export'
            : `does not list ${opts.export}`;
    lines.push(`showmount -e ${opts.server}: ${what}: ${oneLine(o.showmount.output)}`);
  }
  if (o.rpcinfo) {
    const cmd =
      opts.nfsVersion === 4
        ? `rpcinfo -T ${opts.server.includes(':') ? 'tcp6' : 'tcp'} ${opts.server} nfs 4`
        : `rpcinfo -t ${opts.server} nfs ${opts.nfsVersion}`;
    lines.push(`${cmd}: rc ${o.rpcinfo.rc}: ${oneLine(o.rpcinfo.output)}`);
  }
  if (o.tcp && !o.tcp.skipped)
    lines.push(
      `TCP ${opts.server}:${o.tcp.port}: ${o.tcp.rc === 0 ? 'connected' : `rc ${o.tcp.rc}: ${oneLine(o.tcp.output)}`}`,
    );
  return lines.join('\n');
}

/** Runs the wait loop on the host (one command) and returns what it saw. */
export async function waitForNfs(ctx: ModuleContext, o: NfsWaitOptions): Promise<NfsWaitOutcome> {
  // with the task's become: showmount and rpcinfo live in sbin, often not in a normal user's PATH
  const r = await ctx.run(nfsWaitArgv(o), { okExit: 'any' });
  return parseNfsWait(r.stdout);
}
