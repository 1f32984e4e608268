// cert_hook: run post-renewal commands once per new certificate. Remembers the
// certificate's SHA256 fingerprint in a state file on the host; when it changed
// (or there is no state yet) or the key's owner/mode had to be fixed, it fixes
// the key, runs the commands in order (stopping at the first failure, without
// recording the new fingerprint so the next run retries), then records it.
// The key may live in a container (`ctid`: read and fixed through pct exec).
import * as z from 'zod';
import { defineModule, type Change, type ModuleContext, type Plan, type PlanContext } from '../src/module.js';
import type { ExecResult } from '../src/connection/types.js';
import {
  certStatePath,
  certStateText,
  hookReason,
  isPveproxyCert,
  keyDifferences,
  nodeCertPath,
  parseNodeName,
  parseCertState,
  parseKeyStat,
  parseOpensslFingerprint,
  parsePvenodeCertInfo,
  pvenodeEntryFor,
  type CertState,
  type KeyStat,
} from '../src/proxmox/cert.js';
import { containerSlot, type Predictions } from '../src/predictions.js';
import { isMissingCt } from '../src/proxmox/pct-config.js';
import { guestResult, isGuestExecArgv } from '../src/proxmox/qm.js';
import { ModuleError } from '../src/module.js';
import { runBatch } from '../src/remote/batch.js';
import { ctBatch } from '../src/proxmox/ct-batch.js';
import { shellJoin } from '../src/quote.js';
import { sleep } from '../src/sleep.js';
import { octalModeArg } from '../src/remote/mode.js';

// ---------------------------------------------------------------- arguments

const args = () => {
  const absPath = z
    .string()
    .startsWith('/', { message: 'must be an absolute path' })
    .regex(/^[^\0\n\r]*$/, { message: 'must be one line' });
  const account = z.union([
    z.number().int().nonnegative(),
    z
      .string()
      .min(1)
      .regex(/^[^:\s\0]+$/, { message: 'must be a user/group name or number' })
      // chown's owner:group comes before its `--`: a leading "-" would be read as an option
      .regex(/^[^-]/, { message: 'must not start with "-" (chown would read it as an option)' }),
  ]);
  const modeArg = octalModeArg('0640');
  return z
    .object({
      name: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, { message: 'letters, digits, _ . - (it names the state file)' }),
      cert: absPath.describe('certificate (PEM) path, on the host or inside ctid'),
      key: absPath.optional().describe('private key path, on the host or inside ctid'),
      ctid: z
        .union([z.number().int(), z.string().regex(/^\d+$/, { message: 'must be a CT id like 101' })])
        .transform((v) => Number(v))
        .pipe(z.number().int().min(100).max(999999999))
        .optional()
        .describe('the files live inside this container (read and fixed through pct exec)'),
      key_owner: account.optional(),
      key_group: account.optional(),
      key_mode: modeArg.optional(),
      post_renewal: z
        .array(z.array(z.string()).min(1, { message: 'a command needs at least the program name' }))
        .default([])
        .describe(
          "commands (argv lists) run on the host, in order, e.g. ['pct','exec','101','--','systemctl','reload','nginx']",
        ),
      wait_for_key: z.boolean().default(false).describe('wait (bounded by wait_timeout) for the key to appear'),
      wait_timeout: z.number().positive().default(60),
      fingerprint_source: z
        .enum(['auto', 'openssl', 'pvenode'])
        .default('auto')
        .describe('auto: pvenode for /etc/pve pveproxy certificates, else openssl'),
      state_dir: absPath.default('/var/lib/phx-play/cert_hook'),
    })
    .strict()
    .superRefine((a, c) => {
      if (
        (a.key_owner !== undefined || a.key_group !== undefined || a.key_mode !== undefined || a.wait_for_key) &&
        a.key === undefined
      ) {
        c.addIssue({
          code: 'custom',
          message: 'key_owner, key_group, key_mode and wait_for_key need key (the key path)',
          path: ['key'],
        });
      }
      if (a.fingerprint_source === 'pvenode' && a.ctid !== undefined) {
        c.addIssue({
          code: 'custom',
          message: 'pvenode reads the host certificates: not with ctid',
          path: ['fingerprint_source'],
        });
      }
    });
};

export type CertHookArgs = z.output<ReturnType<typeof args>>;

// ---------------------------------------------------------------- facts

export interface CertHookFacts {
  fingerprint?: string;
  notafter?: number;
  /** undefined when no key is given; null when missing */
  key?: KeyStat | null;
  state: CertState | null;
  /** seconds waited for the key */
  waited?: number;
  error?: string;
  /** what the error was about: check mode may assume an earlier task creates these */
  certMissing?: boolean;
  ctMissing?: boolean;
  ctStopped?: boolean;
  /** check mode: an earlier task (pct) would have the CT running */
  ctPredictedRunning?: boolean;
}

const where = (a: CertHookArgs) => (a.ctid !== undefined ? ` in CT ${a.ctid}` : '');
const inCt = (a: CertHookArgs, argv: string[]) =>
  a.ctid !== undefined ? ['pct', 'exec', String(a.ctid), '--', ...argv] : argv;
const usePvenode = (a: CertHookArgs) =>
  a.fingerprint_source === 'pvenode' ||
  (a.fingerprint_source === 'auto' && a.ctid === undefined && isPveproxyCert(a.cert));
const keyStatArgvIn = (key: string) => ['stat', '-c', '%U %G %u %g %a', '--', key];
const keyStatArgv = (a: CertHookArgs) => inCt(a, keyStatArgvIn(a.key!));
const NO_FILE = /No such file or directory|Could not open file|Can't open|cannot stat/i;

function ctProblem(a: CertHookArgs, r: ExecResult, f: CertHookFacts): string | undefined {
  if (a.ctid === undefined) return undefined;
  if (isMissingCt(r.stderr)) {
    f.ctMissing = true;
    return `CT ${a.ctid} does not exist`;
  }
  // a stopped CT: pct exec's lxc-attach finds no init pid (lxc src/lxc/attach.c get_attach_context)
  if (/not running|Failed to get init pid/i.test(r.stderr)) {
    f.ctStopped = true;
    return `CT ${a.ctid} is not running (pct exec needs it running)`;
  }
  return undefined;
}

async function readAll(ctx: ModuleContext, a: CertHookArgs): Promise<CertHookFacts> {
  const fingerprintArgv = ['openssl', 'x509', '-noout', '-fingerprint', '-sha256', '-in', a.cert];
  // in a CT, the certificate and the key are read by one pct exec (src/proxmox/ct-batch.ts)
  const inside =
    a.ctid !== undefined && !usePvenode(a)
      ? ctBatch(a.ctid, [fingerprintArgv, ...(a.key !== undefined ? [keyStatArgvIn(a.key)] : [])])
      : undefined;
  const cmds: string[][] = [
    inside ? inside.argv : usePvenode(a) ? ['pvenode', 'cert', 'info', '--output-format', 'json'] : fingerprintArgv,
    ['cat', '--', certStatePath(a.state_dir, a.name)],
    // pvenode shows this node's certificates: which node is this (see nodeCertPath)
    ...(usePvenode(a) ? [['sh', '-c', 'readlink /etc/pve/local || uname -n']] : []),
  ];
  if (a.key !== undefined && !inside) cmds.push(keyStatArgv(a));
  const results = await runBatch(ctx, cmds);
  const st = results[1];
  const [fp, insideKey] = inside ? inside.split(results[0]) : [results[0], undefined];
  const nodeOut = usePvenode(a) ? results[2] : undefined;
  const key = a.key === undefined ? undefined : (insideKey ?? results[results.length - 1]);
  const f: CertHookFacts = { state: st.rc === 0 ? parseCertState(st.stdout) : null };
  if (fp.rc !== 0) {
    f.error = ctProblem(a, fp, f);
    if (!f.error && NO_FILE.test(fp.stderr)) {
      f.certMissing = true;
      f.error = `certificate ${a.cert}${where(a)} does not exist`;
    }
    f.error ??= `reading certificate ${a.cert}${where(a)} failed: ${fp.stderr.trim() || `exit code ${fp.rc}`}`;
  } else if (usePvenode(a)) {
    try {
      const node = parseNodeName(nodeOut?.stdout ?? '');
      const at = node ? nodeCertPath(a.cert, node) : { path: a.cert };
      const entry = 'path' in at ? pvenodeEntryFor(parsePvenodeCertInfo(fp.stdout), at.path) : undefined;
      if ('otherNode' in at)
        f.error = `${a.cert} is node ${at.otherNode}'s certificate, but this host is node ${node}: use /etc/pve/local/${a.cert.split('/').pop()} for the certificate of the node the task runs on (or fingerprint_source: openssl to read that file as it is)`;
      else if (!entry) f.error = `pvenode cert info (node ${node ?? '?'}) lists no certificate ${at.path}`;
      else {
        f.fingerprint = entry.fingerprint;
        if (entry.notafter !== undefined) f.notafter = entry.notafter;
      }
    } catch (e) {
      f.error = `pvenode cert info: ${(e as Error).message}`;
    }
  } else {
    f.fingerprint = parseOpensslFingerprint(fp.stdout);
    if (!f.fingerprint)
      f.error = `could not read the fingerprint of ${a.cert}${where(a)}: ${fp.stdout.trim().slice(0, 200)}`;
  }
  if (key) {
    if (key.rc === 0) f.key = parseKeyStat(key.stdout) ?? null;
    else if (NO_FILE.test(key.stderr)) f.key = null;
    else
      f.error ??=
        ctProblem(a, key, f) ?? `stat of key ${a.key}${where(a)} failed: ${key.stderr.trim() || `exit code ${key.rc}`}`;
  }
  return f;
}

async function facts(ctx: ModuleContext, a: CertHookArgs): Promise<CertHookFacts> {
  let f = await readAll(ctx, a);
  if (f.key !== null || !a.wait_for_key || ctx.check || f.error) return f;
  // The key is written by something else (certbot, an earlier task): wait for it, bounded.
  const started = Date.now();
  for (;;) {
    if (Date.now() - started + 1000 > a.wait_timeout * 1000 || ctx.signal.aborted)
      return { ...f, waited: Math.round((Date.now() - started) / 1000) };
    await sleep(1000);
    const r = await ctx.run(keyStatArgv(a), { okExit: 'any' });
    if (r.rc === 0) break;
  }
  f = await readAll(ctx, a);
  return { ...f, waited: Math.round((Date.now() - started) / 1000) };
}

/** Check mode: a CT that is missing or stopped now may be one an earlier pct task would start. */
function overlay(f: CertHookFacts, a: CertHookArgs, predicted: Predictions): CertHookFacts {
  if (a.ctid === undefined || !(f.ctMissing || f.ctStopped)) return f;
  return containerSlot.get(predicted, a.ctid)?.status === 'running' ? { ...f, ctPredictedRunning: true } : f;
}

// ---------------------------------------------------------------- plan

const octal = (m: number) => m.toString(8).padStart(4, '0');

function postRenewalChange(argv: string[], i: number, n: number): Change {
  return {
    description: `run ${shellJoin(argv)}`,
    apply: async (ctx) => {
      let r = await ctx.run(argv, { okExit: 'any' });
      const vmid = isGuestExecArgv(argv);
      // qm exits 0 even when the guest command failed: read its JSON.
      if (vmid !== undefined && r.rc === 0) r = guestResult(vmid, argv.slice(argv.indexOf('--') + 1), r);
      if (r.rc !== 0) {
        throw new ModuleError(
          `post_renewal command ${i + 1} of ${n} failed (rc ${r.rc}): ${shellJoin(argv)}: ${r.stderr.trim() || r.stdout.trim() || 'no error text'}; the new fingerprint is not recorded, so the next run retries`,
          { result: r },
        );
      }
    },
  };
}

function keyText(k: KeyStat | null | undefined): string {
  if (k === undefined) return '';
  return k ? `key: ${k.owner}:${k.group} ${octal(k.mode)}\n` : 'key: (absent)\n';
}

/**
 * Check mode on a fresh host: the certificate (or the CT holding it) may come from
 * an earlier task of the same run. A CT counts when an earlier pct task predicted
 * it running (the overlay says so); a missing certificate file is assumed to be created.
 */
function assumedInCheck(f: CertHookFacts, pc: Pick<PlanContext, 'check'>): boolean {
  if (!pc.check || !f.error) return false;
  if (f.ctMissing || f.ctStopped) return f.ctPredictedRunning === true;
  return f.certMissing === true;
}

const NEW_FILE: KeyStat = { owner: 'root', group: 'root', uid: 0, gid: 0, mode: -1 };

export function plan(f: CertHookFacts, a: CertHookArgs, pc: Pick<PlanContext, 'check'> = { check: false }): Plan {
  const assumed = assumedInCheck(f, pc);
  if (f.error && !assumed) return { changes: [], fail: f.error };
  if (assumed) f = { ...f, fingerprint: undefined, key: a.key !== undefined ? null : undefined, error: undefined };
  if (f.key === null && !assumed && (!a.wait_for_key || f.waited !== undefined)) {
    return {
      changes: [],
      fail:
        f.waited !== undefined
          ? `key ${a.key}${where(a)} did not appear within ${a.wait_timeout} s`
          : `key ${a.key}${where(a)} does not exist`,
    };
  }
  // unknown only in check mode, when the certificate does not exist yet
  const fingerprint = f.fingerprint ?? '(unknown until the certificate exists)';
  const want = { owner: a.key_owner, group: a.key_group, mode: a.key_mode };
  // A key still missing here is check mode (wait_for_key, or assumed): it would appear as a new
  // file written by root, mode unknown — so owner/group compare with root, the mode is always set.
  const d = f.key ? keyDifferences(f.key, want) : { ...keyDifferences(NEW_FILE, want), mode: want.mode !== undefined };
  const keyNeedsFix = d.owner || d.group || d.mode;
  const reason = assumed ? (f.state ? 'renewed' : 'first-run') : hookReason(fingerprint, f.state, keyNeedsFix);
  const result = {
    name: a.name,
    fingerprint: f.fingerprint ?? null,
    previous_fingerprint: f.state?.fingerprint ?? null,
    reason,
    renewed: reason === 'renewed',
    permissions_fixed: keyNeedsFix,
    commands_run: reason === 'none' ? 0 : a.post_renewal.length,
  };
  if (reason === 'none')
    return { changes: [], result, msg: `certificate ${a.name} unchanged (${fingerprint.slice(0, 23)}…)` };

  const changes: Change[] = [];
  if (d.owner || d.group) {
    const spec = `${d.owner ? a.key_owner : ''}${d.group ? `:${a.key_group}` : ''}`;
    changes.push({ description: `chown ${spec} ${a.key}${where(a)}`, argv: inCt(a, ['chown', spec, '--', a.key!]) });
  }
  if (d.mode)
    changes.push({
      description: `chmod ${octal(a.key_mode!)} ${a.key}${where(a)}`,
      argv: inCt(a, ['chmod', octal(a.key_mode!), '--', a.key!]),
    });
  a.post_renewal.forEach((argv, i) => changes.push(postRenewalChange(argv, i, a.post_renewal.length)));
  const state: CertState = {
    name: a.name,
    cert: a.cert,
    fingerprint,
    ...(f.notafter !== undefined ? { notafter: f.notafter } : {}),
  };
  const file = certStatePath(a.state_dir, a.name);
  changes.push({
    description: `record fingerprint in ${file}`,
    argv: [
      'sh',
      '-c',
      'umask 077 && mkdir -p -- "$1" && cat > "$2.tmp" && mv -f -- "$2.tmp" "$2"',
      'sh',
      a.state_dir,
      file,
    ],
    stdin: certStateText(state),
  });
  const afterKey: KeyStat | null | undefined =
    f.key === undefined
      ? undefined
      : {
          owner: d.owner ? String(a.key_owner) : (f.key?.owner ?? '?'),
          group: d.group ? String(a.key_group) : (f.key?.group ?? '?'),
          uid: f.key?.uid ?? -1,
          gid: f.key?.gid ?? -1,
          mode: d.mode ? a.key_mode! : (f.key?.mode ?? 0),
        };
  const why =
    reason === 'first-run'
      ? 'no fingerprint recorded yet'
      : reason === 'renewed'
        ? 'certificate renewed'
        : 'key permissions fixed';
  return {
    changes,
    result,
    msg: `${why}: ${changes.map((c) => c.description).join('; ')}${assumed ? ` (check mode: ${f.certMissing ? `certificate ${a.cert}` : `CT ${a.ctid}`} not there yet, assumed to come from an earlier task)` : ''}`,
    diff: {
      before: `fingerprint: ${f.state?.fingerprint ?? '(none recorded)'}\n${keyText(f.key)}`,
      after: `fingerprint: ${fingerprint}\n${keyText(afterKey)}`,
      before_header: `cert_hook ${a.name}`,
      after_header: `cert_hook ${a.name}`,
    },
  };
}

export default defineModule<CertHookArgs, CertHookFacts>({
  name: 'cert_hook',
  aliases: ['phx.proxmox.cert_hook'],
  description:
    "Fix a key's permissions and run post-renewal commands once per new certificate (fingerprint remembered on the host)",
  args,
  facts,
  overlay,
  plan,
  verify: true,
});
