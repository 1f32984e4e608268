// docker_volume: a Docker volume inside a VM (through `qm guest exec`, whose
// JSON carries the guest command's real exit code) or on the host itself.
// `docker volume create` silently keeps an existing volume's options, so the
// options are compared exactly and a mismatch is drift: it fails, unless
// `recreate: options-changed` and the volume is unused. `ensure_source` first
// creates the NFS source directory on the hypervisor (docker never checks it).
import * as z from 'zod';
import { defineModule, type Change, type ModuleContext, type Plan } from '../src/module.js';
import type { ExecResult } from '../src/connection/types.js';
import { dockerVolumeSlot, pathSlot, predictedHostPath, type Predictions } from '../src/predictions.js';
import {
  AGENT_NOT_RUNNING,
  dockerRunner,
  guestExecArgv,
  guestResult,
  runInGuest,
  type GuestOptions,
} from '../src/proxmox/qm.js';
import { ModuleError } from '../src/module.js';
import { runBatch } from '../src/remote/batch.js';
import { printMountOptions } from '../src/encode/mount-options.js';
import { mountOptionRecord, oneLine } from '../src/encode/schemas.js';

// ---------------------------------------------------------------- arguments

const args = () =>
  z
    .object({
      name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, {
        message: 'a Docker volume name: letters, digits, _ . - (not starting with . or -)',
      }),
      vmid: z
        .union([z.number().int(), z.string().regex(/^\d+$/, { message: 'must be a VM id like 1001' })])
        .transform((v) => Number(v))
        .pipe(z.number().int().min(100).max(999999999))
        .optional()
        .describe('VM running Docker (through its guest agent); omit when the host itself runs Docker'),
      driver: z
        .string()
        .regex(/^[A-Za-z0-9_./:-]+$/, { message: 'not a driver name' })
        .default('local'),
      options: z
        .record(
          oneLine().regex(/^[^=\s-][^=\s]*$/, { message: 'option names have no = or spaces and do not start with -' }),
          z.union([oneLine(), z.number(), z.boolean(), mountOptionRecord()]),
        )
        .default({})
        .superRefine((o, c) => {
          for (const [k, v] of Object.entries(o))
            if (typeof v === 'object' && k !== 'o')
              c.addIssue({ code: 'custom', message: 'only o (the mount options) may be a mapping', path: [k] });
        })
        // `o` as a mapping is printed by the mount options encoder: no value can add an option
        .transform((o) =>
          Object.fromEntries(
            Object.entries(o).map(([k, v]) => [k, typeof v === 'object' ? printMountOptions(Object.entries(v)) : v]),
          ),
        )
        .describe(
          'driver options, e.g. {type: nfs, o: "addr=10.0.0.5,rw,nfsvers=4", device: ":/srv/nfs/x"}; o may be a mapping {addr: 10.0.0.5, rw: true}',
        ),
      state: z.enum(['present', 'absent']).default('present'),
      recreate: z
        .enum(['never', 'options-changed'])
        .default('never')
        .describe('options-changed: remove and re-create a volume whose options differ (only if unused)'),
      ensure_source: z
        .string()
        .startsWith('/', { message: 'must be an absolute path on the hypervisor' })
        .regex(/^[^\0]*$/)
        .optional()
        .describe('hypervisor directory (the NFS export path) created before the volume'),
      agent_timeout: z
        .number()
        .positive()
        .default(60)
        .describe('seconds to keep retrying while the guest agent is not running yet'),
      exec_timeout: z.number().int().positive().default(30).describe('qm guest exec --timeout for each docker command'),
      retry_interval: z.number().positive().default(1).describe('seconds between guest agent retries'),
    })
    .strict();

export type DockerVolumeArgs = z.output<ReturnType<typeof args>>;

// ---------------------------------------------------------------- facts

export interface VolumeInfo {
  driver: string;
  options: Record<string, string>;
  mountpoint?: string;
}

export interface DockerVolumeFacts {
  /** null: no such volume */
  volume: VolumeInfo | null;
  /** undefined when ensure_source is not given */
  sourceExists?: boolean;
  error?: string;
}

const NO_SUCH_VOLUME = /no such volume|volume \S+ not found/i;

/** `docker volume inspect` output → the volume (Options/Labels may be null). */
export function parseVolumeInspect(stdout: string): VolumeInfo | null {
  const text = stdout.trim();
  if (text === '') return null;
  const v = JSON.parse(text) as unknown;
  const first: unknown = Array.isArray(v) ? v[0] : v;
  if (!first || typeof first !== 'object') return null;
  const o = first as Record<string, unknown>;
  const opts = o.Options && typeof o.Options === 'object' ? (o.Options as Record<string, unknown>) : {};
  return {
    driver: typeof o.Driver === 'string' ? o.Driver : '',
    options: Object.fromEntries(Object.entries(opts).map(([k, x]) => [k, String(x)])),
    ...(typeof o.Mountpoint === 'string' ? { mountpoint: o.Mountpoint } : {}),
  };
}

/** Interprets the inspect command's outcome. */
export function inspectOutcome(name: string, r: ExecResult): { volume: VolumeInfo | null; error?: string } {
  if (r.rc === 0) {
    try {
      const volume = parseVolumeInspect(r.stdout);
      return volume ? { volume } : { volume: null, error: `docker volume inspect ${name} printed no volume` };
    } catch {
      return {
        volume: null,
        error: `docker volume inspect ${name} printed something that is not JSON: ${JSON.stringify(r.stdout.slice(0, 200))}`,
      };
    }
  }
  if (r.rc !== 127 && NO_SUCH_VOLUME.test(r.stderr)) return { volume: null };
  return {
    volume: null,
    error: `docker volume inspect ${name} failed (rc ${r.rc}): ${r.stderr.trim() || r.stdout.trim() || 'no error text'}`,
  };
}

function guestOpts(a: DockerVolumeArgs): GuestOptions {
  return {
    timeoutSeconds: a.exec_timeout,
    agentTimeoutMs: a.agent_timeout * 1000,
    retryIntervalMs: a.retry_interval * 1000,
  };
}

async function facts(ctx: ModuleContext, a: DockerVolumeArgs): Promise<DockerVolumeFacts> {
  const inspect = ['docker', 'volume', 'inspect', a.name];
  const cmds: string[][] = [a.vmid !== undefined ? guestExecArgv(a.vmid, inspect, a.exec_timeout) : inspect];
  if (a.ensure_source !== undefined) cmds.push(['test', '-d', a.ensure_source]);
  const [first, src] = await runBatch(ctx, cmds);
  let r: ExecResult;
  if (a.vmid === undefined) r = first;
  else if (first.rc !== 0 && AGENT_NOT_RUNNING.test(first.stderr))
    r = await runInGuest(ctx, a.vmid, inspect, guestOpts(a));
  else r = guestResult(a.vmid, inspect, first, a.exec_timeout);
  return { ...inspectOutcome(a.name, r), ...(src ? { sourceExists: src.rc === 0 } : {}) };
}

/** Check mode: the volume as earlier tasks would leave it; an NFS source directory they would create exists. */
function overlay(f: DockerVolumeFacts, a: DockerVolumeArgs, predicted: Predictions): DockerVolumeFacts {
  const out = { ...f };
  const ref = { vmid: a.vmid, name: a.name };
  if (dockerVolumeSlot.has(predicted, ref)) out.volume = dockerVolumeSlot.get(predicted, ref) ?? null;
  if (a.ensure_source !== undefined && predictedHostPath(predicted, a.ensure_source)?.type === 'd')
    out.sourceExists = true;
  return out;
}

// ---------------------------------------------------------------- plan

function wantedOptions(a: DockerVolumeArgs): Record<string, string> {
  return Object.fromEntries(
    Object.entries(a.options).map(([k, v]) => [k, typeof v === 'boolean' ? String(v) : String(v)]),
  );
}

export function optionsEqual(x: Record<string, string>, y: Record<string, string>): boolean {
  const kx = Object.keys(x).sort();
  const ky = Object.keys(y).sort();
  return kx.length === ky.length && kx.every((k, i) => k === ky[i] && x[k] === y[k]);
}

function optionsText(o: Record<string, string>): string {
  return (
    Object.keys(o)
      .sort()
      .map((k) => `${k}=${o[k]}`)
      .join(' ') || '(none)'
  );
}

function createArgv(a: DockerVolumeArgs): string[] {
  const o = wantedOptions(a);
  return [
    'docker',
    'volume',
    'create',
    '--driver',
    a.driver,
    ...Object.keys(o)
      .sort()
      .flatMap((k) => ['--opt', `${k}=${o[k]}`]),
    a.name,
  ];
}

const where = (a: DockerVolumeArgs) => (a.vmid !== undefined ? ` in VM ${a.vmid}` : '');

function dockerChange(
  a: DockerVolumeArgs,
  description: string,
  argv: string[],
  onFail: (r: ExecResult) => string,
): Change {
  return {
    description,
    apply: async (ctx) => {
      const r = await dockerRunner(ctx, a.vmid, guestOpts(a))(argv);
      if (r.rc !== 0) throw new ModuleError(onFail(r), { result: r });
    },
  };
}

function removeChange(a: DockerVolumeArgs): Change {
  return dockerChange(a, `remove docker volume ${a.name}${where(a)}`, ['docker', 'volume', 'rm', a.name], (r) =>
    /in use/i.test(r.stderr)
      ? `docker volume ${a.name}${where(a)} is in use, so it cannot be removed (${r.stderr.trim()}); stop and remove the containers using it first`
      : `docker volume rm ${a.name}${where(a)} failed (rc ${r.rc}): ${r.stderr.trim() || 'no error text'}`,
  );
}

function createChange(a: DockerVolumeArgs): Change {
  return dockerChange(
    a,
    `create docker volume ${a.name}${where(a)} (driver ${a.driver}, ${optionsText(wantedOptions(a))})`,
    createArgv(a),
    (r) => `docker volume create ${a.name}${where(a)} failed (rc ${r.rc}): ${r.stderr.trim() || 'no error text'}`,
  );
}

function volumeText(v: VolumeInfo | null): string {
  return v
    ? `driver: ${v.driver}\n${Object.keys(v.options)
        .sort()
        .map((k) => `${k}: ${v.options[k]}\n`)
        .join('')}`
    : '';
}

export function plan(f: DockerVolumeFacts, a: DockerVolumeArgs): Plan {
  if (f.error) return { changes: [], fail: f.error };
  const current = f.volume;
  const want: VolumeInfo = { driver: a.driver, options: wantedOptions(a) };
  const changes: Change[] = [];
  let created = false;
  let recreated = false;

  if (a.state === 'absent') {
    if (current) changes.push(removeChange(a));
  } else {
    if (a.ensure_source !== undefined && f.sourceExists === false) {
      changes.push({
        description: `create NFS source directory ${a.ensure_source} on the hypervisor`,
        argv: ['mkdir', '-p', '--', a.ensure_source],
      });
    }
    if (!current) {
      changes.push(createChange(a));
      created = true;
    } else if (current.driver !== want.driver || !optionsEqual(current.options, want.options)) {
      const drift = `docker volume ${a.name}${where(a)} exists with driver ${current.driver} and options ${optionsText(current.options)}, but the task wants driver ${want.driver} and options ${optionsText(want.options)}`;
      if (a.recreate !== 'options-changed') {
        return {
          changes: [],
          fail: `${drift}; docker volume create would silently keep the old options. Set recreate: options-changed to replace it (it must not be in use)`,
        };
      }
      changes.push(removeChange(a), createChange(a));
      recreated = true;
    }
  }
  const after = a.state === 'absent' ? null : want;
  return {
    changes,
    result: {
      name: a.name,
      ...(a.vmid !== undefined ? { vmid: a.vmid } : {}),
      state: a.state,
      driver: after?.driver,
      options: after?.options,
      created,
      recreated,
      ...(current?.mountpoint && !recreated ? { mountpoint: current.mountpoint } : {}),
    },
    msg: changes.length
      ? changes.map((c) => c.description).join('; ')
      : `docker volume ${a.name}${where(a)} is as wanted`,
    ...(changes.length
      ? {
          diff: {
            before: volumeText(current),
            after: volumeText(after),
            before_header: `docker volume ${a.name}${where(a)}`,
            after_header: `docker volume ${a.name}${where(a)}`,
          },
        }
      : {}),
    predict: [
      dockerVolumeSlot.entry({ vmid: a.vmid, name: a.name }, after),
      ...(changes.some((c) => c.argv?.[0] === 'mkdir')
        ? [pathSlot.entry(a.ensure_source!, { exists: true, type: 'directory', uid: 0, gid: 0 })]
        : []),
    ],
  };
}

export default defineModule<DockerVolumeArgs, DockerVolumeFacts>({
  name: 'docker_volume',
  aliases: ['phx.proxmox.docker_volume'],
  description: 'A Docker volume in a VM (via qm guest exec) or on the host; NFS options compared exactly',
  args,
  facts,
  overlay,
  plan,
  verify: true,
});
