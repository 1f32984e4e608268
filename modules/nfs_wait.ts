// nfs_wait — wait until an NFS export can be mounted from this host, bounded.
// Read-only (never `changed`), so it runs in check mode too. The wait loop runs
// on the host in one command (src/proxmox/nfs.ts); probes: showmount lists the
// export, rpcinfo says NFS is ready over TCP (else a TCP connect to 2049).
//
// Check mode probes once instead of waiting: on a fresh host the export is
// usually made by earlier tasks that check mode did not run, so waiting would
// only burn the timeout. A missing export is reported in the message
// (`ready: false`), not as a failure, so the rest of the check run still shows
// what it would do.
import * as z from 'zod';
import { defineModule, type Plan } from '../src/module.js';
import { datasetSlot, type Predictions } from '../src/predictions.js';
import { seconds } from '../src/remote/seconds-arg.js';
import {
  describeProbes,
  normalizeExportPath,
  waitForNfs,
  type NfsWaitOptions,
  type NfsWaitOutcome,
} from '../src/proxmox/nfs.js';

// ---------------------------------------------------------------- arguments

const args = () => {
  const nfsServer = z
    .string()
    .min(1, 'server is empty')
    .refine((s) => !s.startsWith('-') && !/\s/.test(s), {
      message: 'server must be a host name or IP address (no spaces, not starting with -)',
    });

  const nfsExport = z
    .string()
    .refine((p) => p.startsWith('/'), { message: 'export must be an absolute path on the server, e.g. /tank/shared' })
    .refine((p) => !/[\n\r]/.test(p), { message: 'export must not contain a newline' });

  const nfsVersion = z.union([z.number(), z.string()]).transform((v, c) => {
    const major = Math.trunc(Number(v));
    if (major !== 3 && major !== 4) {
      c.addIssue({
        code: 'custom',
        message: `nfs_version must be 3 or 4 (4.1, 4.2 count as 4), not ${JSON.stringify(v)}`,
      });
      return z.NEVER;
    }
    return major;
  });

  return z
    .object({
      server: nfsServer,
      export: nfsExport,
      /** seconds to wait at most */
      timeout: seconds(3600).default(60),
      /** seconds between probes */
      interval: seconds(60)
        .refine((n) => n > 0, 'interval must be more than 0 seconds')
        .default(1),
      nfs_version: nfsVersion.default(4),
      /** require the export in `showmount -e` (set false for NFSv4-only servers without mountd) */
      showmount: z.boolean().default(true),
    })
    .strict();
};

export type NfsWaitArgs = z.output<ReturnType<typeof args>>;

export function nfsOptions(a: NfsWaitArgs, check: boolean): NfsWaitOptions {
  return {
    server: a.server,
    export: a.export,
    timeout: check ? 0 : a.timeout,
    interval: a.interval,
    nfsVersion: a.nfs_version,
    showmount: a.showmount,
  };
}

// ---------------------------------------------------------------- facts

export interface NfsWaitFacts {
  outcome: NfsWaitOutcome;
  check: boolean;
  /** check mode: an earlier task would create the exported dataset/path */
  expected?: string;
}

/** Check mode: a dataset an earlier task would create, mounted at (or above) the export path, is expected to export it. */
function overlay(f: NfsWaitFacts, a: NfsWaitArgs, predicted: Predictions): NfsWaitFacts {
  if (f.outcome.ready) return f;
  const path = normalizeExportPath(a.export);
  for (const [name, ds] of datasetSlot.entries(predicted)) {
    const mp = ds?.mountpoint;
    if (mp !== undefined && (path === mp || path.startsWith(mp.replace(/\/+$/, '') + '/')))
      return { ...f, expected: `dataset ${name}` };
  }
  return f;
}

// ---------------------------------------------------------------- plan

export function planNfsWait(f: NfsWaitFacts, a: NfsWaitArgs): Plan {
  const o = f.outcome;
  const where = `${a.server}:${normalizeExportPath(a.export)}`;
  const result = { ready: o.ready, elapsed: o.elapsed, attempts: o.attempts, server: a.server, export: a.export };
  if (o.ready)
    return {
      changes: [],
      result,
      msg: `NFS export ${where} is ready${o.elapsed > 0 ? ` after ${o.elapsed} s` : ''} (${o.attempts} probe${o.attempts === 1 ? '' : 's'})`,
    };
  const last = describeProbes(o, { server: a.server, export: a.export, nfsVersion: a.nfs_version });
  if (f.check) {
    const why = f.expected
      ? `an earlier task would create it (${f.expected})`
      : 'it may be created by earlier tasks that check mode did not run';
    const msg = `check mode: NFS export ${where} is not ready yet; ${why}; a real run waits up to ${a.timeout} s. Last probe:\n${last}`;
    // `warnings` as Ansible results carry them, for the output to show even when ok
    return { changes: [], result: { ...result, last_probe: last, warnings: [msg.split('. Last probe:')[0]] }, msg };
  }
  return {
    changes: [],
    result: { ...result, last_probe: last },
    fail: `NFS export ${where} not ready after ${o.elapsed} s (${o.attempts} probe${o.attempts === 1 ? '' : 's'}, timeout ${a.timeout} s). Last probe:\n${last}`,
  };
}

// ---------------------------------------------------------------- module

export default defineModule<NfsWaitArgs, NfsWaitFacts>({
  name: 'nfs_wait',
  description: 'Wait (bounded) until an NFS export answers from this host: showmount lists it, rpcinfo/TCP 2049 ready',
  args,
  async facts(ctx, a) {
    const outcome = await waitForNfs(ctx, nfsOptions(a, ctx.check));
    return { outcome, check: ctx.check };
  },
  overlay,
  plan: (f, a) => planNfsWait(f, a),
});
