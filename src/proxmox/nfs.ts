// Waiting for an NFS export to be usable, from the host that will mount it
// (where `pvesm add nfs` or a docker NFS volume runs). The whole wait loop
// runs ON the host as one small sh script: one SSH round trip however long the
// wait, instead of one per probe. Used by the nfs_wait and pvesm modules.
//
// Probes per attempt (spec §4, the same as PVE's own online check):
//   1. `showmount -e --no-headers <server>` lists the export path (skippable
//      for NFSv4-only servers that run no mountd);
//   2. `rpcinfo -T tcp <server> nfs 4` (`rpcinfo -t <server> nfs 3` for v3)
//      says "ready and waiting";
//   3. only when rpcinfo did not answer: a TCP connect to port 2049 (nc, or
//      bash's /dev/tcp). rpcinfo over TCP already proves 2049 answers, so when
//      it succeeds the TCP probe is skipped and reported as such.
// Ready = 1 and (2 or 3).
import { ModuleError, type ModuleContext } from '../module.js';

export interface NfsWaitOptions {
  server: string;
  export: string;
  /** seconds; 0 = probe once */
  timeout: number;
  /** seconds between attempts */
  interval: number;
  nfsVersion: 3 | 4;
  /** require the export in `showmount -e` (false for NFSv4-only servers) */
  showmount: boolean;
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
  tcp?: ProbeOutput & { skipped: boolean };
}

const MARK = '@@phx-nfs-wait@@';

// Positional parameters: $1 server, $2 export, $3 timeout in ms, $4 interval,
// $5 nfs version, $6 use showmount (1/0). Values never become code: they are
// only ever expanded inside double quotes or here-documents.
const SCRIPT = `
server=$1 export_path=$2 limit_ms=$3 interval=$4 vers=$5 use_showmount=$6
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
  if [ "$use_showmount" = 1 ]; then
    listed=0
    sm_out=$($to showmount -e --no-headers "$server" 2>&1)
    sm_rc=$?
    if [ "$sm_rc" -eq 0 ]; then
      while IFS= read -r line; do
        case $line in
          "$export_path"|"$export_path "*|"$export_path	"*) listed=1 ;;
        esac
      done <<PHX_EOF
$sm_out
PHX_EOF
    fi
  fi
  if [ "$vers" = 4 ]; then
    rpc_out=$($to rpcinfo -T tcp "$server" nfs 4 2>&1)
  else
    rpc_out=$($to rpcinfo -t "$server" nfs "$vers" 2>&1)
  fi
  rpc_rc=$?
  tcp_out= tcp_rc=0 tcp_skipped=1
  if [ "$rpc_rc" -ne 0 ]; then
    tcp_skipped=0
    if command -v nc >/dev/null 2>&1; then
      tcp_out=$($to nc -z -w 3 "$server" 2049 2>&1)
      tcp_rc=$?
    elif command -v bash >/dev/null 2>&1; then
      tcp_out=$($to bash -c 'exec 3<>"/dev/tcp/$1/2049"' phx-tcp-probe "$server" 2>&1)
      tcp_rc=$?
    else
      tcp_out='no nc or bash on this host for a TCP probe'
      tcp_rc=127
    fi
    [ "$tcp_rc" -ne 0 ] && [ -z "$tcp_out" ] && tcp_out="TCP connect to $server:2049 failed"
  fi
  ready=0
  if [ "$listed" = 1 ] && { [ "$rpc_rc" -eq 0 ] || [ "$tcp_rc" -eq 0 ]; }; then ready=1; fi
  elapsed=$(( $(now_ms) - start ))
  if [ "$ready" = 1 ] || [ "$elapsed" -ge "$limit_ms" ]; then break; fi
  sleep "$interval"
done
printf '%s status ready=%s elapsed_ms=%s attempts=%s\\n' "$M" "$ready" "$elapsed" "$attempts"
if [ "$use_showmount" = 1 ]; then
  printf '%s showmount rc=%s listed=%s\\n%s\\n' "$M" "$sm_rc" "$listed" "$sm_out"
fi
printf '%s rpcinfo rc=%s\\n%s\\n' "$M" "$rpc_rc" "$rpc_out"
printf '%s tcp rc=%s skipped=%s\\n%s\\n' "$M" "$tcp_rc" "$tcp_skipped" "$tcp_out"
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
    o.showmount ? '1' : '0',
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
  if (tcp) out.tcp = { rc: num(tcp.head, 'rc'), skipped: field(tcp.head, 'skipped') === '1', output: body(tcp) };
  return out;
}

/** What the last attempt saw, for messages: one line per probe. */
export function describeProbes(
  o: NfsWaitOutcome,
  opts: Pick<NfsWaitOptions, 'server' | 'export' | 'nfsVersion'>,
): string {
  const lines: string[] = [];
  const oneLine = (s: string) => s.trim().replace(/\s*\n\s*/g, ' | ') || '(no output)';
  if (o.showmount) {
    const what =
      o.showmount.rc !== 0
        ? `failed (rc ${o.showmount.rc})`
        : o.showmount.listed
          ? 'lists the export'
          : `does not list ${opts.export}`;
    lines.push(`showmount -e ${opts.server}: ${what}: ${oneLine(o.showmount.output)}`);
  }
  if (o.rpcinfo) {
    const cmd =
      opts.nfsVersion === 4
        ? `rpcinfo -T tcp ${opts.server} nfs 4`
        : `rpcinfo -t ${opts.server} nfs ${opts.nfsVersion}`;
    lines.push(`${cmd}: rc ${o.rpcinfo.rc}: ${oneLine(o.rpcinfo.output)}`);
  }
  if (o.tcp && !o.tcp.skipped)
    lines.push(`TCP ${opts.server}:2049: ${o.tcp.rc === 0 ? 'connected' : `rc ${o.tcp.rc}: ${oneLine(o.tcp.output)}`}`);
  return lines.join('\n');
}

/** Runs the wait loop on the host (one command) and returns what it saw. */
export async function waitForNfs(ctx: ModuleContext, o: NfsWaitOptions): Promise<NfsWaitOutcome> {
  // with the task's become: showmount and rpcinfo live in sbin, often not in a normal user's PATH
  const r = await ctx.run(nfsWaitArgv(o), { okExit: 'any' });
  return parseNfsWait(r.stdout);
}
