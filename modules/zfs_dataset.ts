// zfs_dataset — a ZFS filesystem exists (or not) with the properties asked for.
// Only the properties named are compared; sizes compare in bytes (1G = 1024M);
// an inherited value equal to the wanted one is fine unless
// `properties_source: local` asks for it to be set on the dataset itself.
import * as z from 'zod';
import { defineModule, CommandFailed, type Plan, type ModuleContext } from '../src/module.js';
import {
  datasetSlot,
  normalizeDataset,
  pathSlot,
  type PredictedDataset,
  type PredictionWrite,
  type Predictions,
} from '../src/predictions.js';
import { isValidSizeValue } from '../src/proxmox/sizes.js';
import { appliesTo, canonicalValue, zfsVersionOf, type ZfsVersion } from '../src/proxmox/zfs-props.js';
import {
  datasetNameError,
  DESTROY_DEPENDENT_TYPES,
  isCreateOnly,
  isMissingDataset,
  parseZfsGet,
  parseZfsList,
  propertyNameError,
  propertyNeedsSet,
  type ZfsProperty,
} from '../src/proxmox/zfs.js';

// ---------------------------------------------------------------- arguments

const args = () => {
  const propertyValue = z
    .union([z.string(), z.number(), z.boolean()])
    .transform((v) => (typeof v === 'boolean' ? (v ? 'on' : 'off') : String(v)));
  return z
    .object({
      name: z.string().superRefine((n, c) => {
        const e = datasetNameError(n);
        if (e) c.addIssue({ code: 'custom', message: e });
      }),
      state: z.enum(['present', 'absent']).default('present'),
      /** property → value; booleans become on/off */
      properties: z.record(z.string(), propertyValue).default({}),
      /** `local`: a wanted value that is only inherited (or default) still gets set on the dataset */
      properties_source: z.enum(['any', 'local']).default('any'),
      /** state absent: also destroy children (zfs destroy -r) */
      recursive: z.boolean().default(false),
    })
    .strict()
    .superRefine((a, c) => {
      for (const [k, v] of Object.entries(a.properties)) {
        const nameErr = propertyNameError(k);
        if (nameErr) c.addIssue({ code: 'custom', path: ['properties', k], message: nameErr });
        else if (/[\n\r\t]/.test(v))
          c.addIssue({
            code: 'custom',
            path: ['properties', k],
            message: `the value of ${k} contains a newline or TAB, which zfs cannot report back (zfs get -H)`,
          });
        else if (!isValidSizeValue(k, v))
          c.addIssue({
            code: 'custom',
            path: ['properties', k],
            message: `${k}: '${v}' is not a size (examples: 10G, 512M, 1.5T, 4096${k.includes('quota') || k.includes('reservation') ? ', none' : ''})`,
          });
      }
      if (a.state === 'absent' && Object.keys(a.properties).length > 0) {
        c.addIssue({ code: 'custom', path: ['properties'], message: 'properties make no sense with state: absent' });
      }
    });
};

export type ZfsDatasetArgs = z.output<ReturnType<typeof args>>;

// ---------------------------------------------------------------- facts

export interface ZfsDatasetFacts {
  exists: boolean;
  /** the asked properties plus mountpoint and type, as zfs -p reports them */
  properties: Record<string, ZfsProperty>;
  /** state absent: the descendants and snapshots (zfs list -t filesystem,volume,snapshot -r), without the dataset itself */
  children: string[];
  /** which xattr table the host's zfs prints with (read only when xattr is asked) */
  version?: ZfsVersion;
  /** when missing: the nearest existing ancestor and its mountpoint (to know where a new dataset mounts) */
  ancestor?: { name: string; mountpoint: string };
  /** the facts include check-mode predictions of earlier tasks */
  predicted?: boolean;
}

const MARK = '@@phx-zfs@@';

// One round trip for a present-state read: the properties, and, only when the
// dataset is missing, the mountpoint of its nearest existing ancestor.
// `zfs version` only when the answer matters (the xattr table changed in 2.3).
const GET_SCRIPT = `props=$1 ds=$2 version=$3
shift 3
zfs get -H -p -o property,value,source -- "$props" "$ds"
rc=$?
printf '%s rc=%s\\n' '${MARK}' "$rc"
if [ "$version" = yes ]; then
  printf '%s version\\t%s\\n' '${MARK}' "$(zfs version 2>/dev/null | head -n 1)"
fi
if [ "$rc" -ne 0 ]; then
  for a in "$@"; do
    if mp=$(zfs get -H -p -o value -- mountpoint "$a" 2>/dev/null); then
      printf '%s ancestor\\t%s\\t%s\\n' '${MARK}' "$a" "$mp"
      break
    fi
  done
fi
`;

function ancestorsOf(name: string): string[] {
  const parts = name.split('/');
  const out: string[] = [];
  for (let i = parts.length - 1; i >= 1; i--) out.push(parts.slice(0, i).join('/'));
  return out;
}

async function readPresent(ctx: ModuleContext, a: ZfsDatasetArgs): Promise<ZfsDatasetFacts> {
  const asked = [...new Set(['mountpoint', 'type', ...Object.keys(a.properties)])];
  const needVersion = 'xattr' in a.properties;
  const argv = [
    'sh',
    '-c',
    GET_SCRIPT,
    'phx-zfs-get',
    asked.join(','),
    a.name,
    needVersion ? 'yes' : 'no',
    ...ancestorsOf(a.name),
  ];
  const r = await ctx.run(argv, { okExit: 'any' });
  const [getOut, tail = ''] = r.stdout.split(`${MARK} rc=`);
  const rc = Number(tail.split('\n')[0]);
  const versionLine = new RegExp(`^${MARK} version\\t(.*)$`, 'm').exec(tail)?.[1];
  const version = needVersion ? zfsVersionOf(versionLine) : undefined;
  if (rc === 0) return { exists: true, properties: parseZfsGet(getOut), children: [], version };
  if (!isMissingDataset(r.stderr)) {
    throw new CommandFailed(['zfs', 'get', '-H', '-p', '-o', 'property,value,source', '--', asked.join(','), a.name], {
      rc,
      stdout: getOut,
      stderr: r.stderr,
    });
  }
  const anc = new RegExp(`^${MARK} ancestor\\t([^\\t]*)\\t(.*)$`, 'm').exec(tail);
  return {
    exists: false,
    properties: {},
    children: [],
    ancestor: anc ? { name: anc[1], mountpoint: anc[2] } : undefined,
    version,
  };
}

async function readTree(ctx: ModuleContext, a: ZfsDatasetArgs): Promise<ZfsDatasetFacts> {
  // snapshots too: zfs destroy without -r refuses a dataset that has any
  const argv = ['zfs', 'list', '-H', '-o', 'name', '-t', DESTROY_DEPENDENT_TYPES, '-r', '--', a.name];
  const r = await ctx.run(argv, { okExit: 'any' });
  if (r.rc !== 0 && !isMissingDataset(r.stderr)) throw new CommandFailed(argv, r);
  const names = r.rc === 0 ? parseZfsList(r.stdout) : [];
  return { exists: names.includes(a.name), properties: {}, children: names.filter((n) => n !== a.name) };
}

/** Check mode: lays what earlier tasks of the run would have done over the facts. */
function overlay(f: ZfsDatasetFacts, a: ZfsDatasetArgs, predicted: Predictions): ZfsDatasetFacts {
  if (predicted.empty) return f;
  const out: ZfsDatasetFacts = { ...f, children: [...f.children] };
  const own = datasetSlot.get(predicted, a.name);
  if (own === null && f.exists) Object.assign(out, { exists: false, properties: {}, predicted: true });
  if (own && !f.exists)
    Object.assign(out, {
      exists: true,
      properties: { mountpoint: { value: own.mountpoint, source: 'local' }, ...own.properties },
      predicted: true,
    });
  if (own && f.exists && a.state === 'present') {
    out.properties = { ...f.properties, ...own.properties };
    out.predicted = true;
  }
  // children that earlier tasks would create or destroy
  const below = `${normalizeDataset(a.name)}/`;
  for (const [child, v] of datasetSlot.entries(predicted)) {
    if (!child.startsWith(below)) continue;
    if (v === null) out.children = out.children.filter((c) => c !== child && !c.startsWith(child + '/'));
    else if (!out.children.includes(child)) out.children.push(child);
  }
  out.children.sort();
  // a nearer ancestor that an earlier task would create
  if (!out.exists) {
    for (const anc of ancestorsOf(a.name)) {
      if (f.ancestor?.name === anc) break;
      const p = datasetSlot.get(predicted, anc);
      if (p) {
        out.ancestor = { name: anc, mountpoint: p.mountpoint };
        out.predicted = true;
        break;
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------- plan

function describeProps(props: Record<string, ZfsProperty>, names: string[]): string {
  return names
    .filter((n) => props[n])
    .map((n) => `${n}=${props[n].value}\t(${props[n].source})`)
    .join('\n');
}

/** Where a new dataset mounts: its own mountpoint, else the ancestor's path + the rest of the name. */
function mountpointOfNew(a: ZfsDatasetArgs, f: ZfsDatasetFacts): string {
  if (a.properties.mountpoint !== undefined) return canonicalValue('mountpoint', a.properties.mountpoint);
  if (!f.ancestor) return `/${a.name}`;
  const mp = f.ancestor.mountpoint;
  if (mp === 'none' || mp === 'legacy' || mp === '-') return mp;
  const rest = a.name.slice(f.ancestor.name.length + 1);
  return `${mp.replace(/\/+$/, '')}/${rest}`;
}

export function planZfsDataset(f: ZfsDatasetFacts, a: ZfsDatasetArgs): Plan {
  const name = a.name;
  if (a.state === 'absent') {
    if (!f.exists)
      return {
        changes: [],
        msg: `dataset ${name} is absent`,
        result: { name, state: 'absent', created: false, destroyed: [] },
      };
    // zfs destroy refuses children and snapshots alike (zfs_main.c destroy_check_dependent)
    if (f.children.length > 0 && !a.recursive) {
      return {
        changes: [],
        fail: `cannot destroy '${name}': filesystem has children; set recursive: true to destroy the following datasets too: ${f.children.join(', ')}`,
      };
    }
    const destroyed = [name, ...f.children];
    return {
      changes: [
        {
          description: `destroy dataset ${name}${f.children.length ? ` and ${f.children.length} children` : ''}`,
          argv: ['zfs', 'destroy', ...(a.recursive ? ['-r'] : []), '--', name],
        },
      ],
      msg: `destroyed ${destroyed.join(', ')}`,
      result: { name, state: 'absent', created: false, destroyed },
      diff: {
        before: destroyed.join('\n') + '\n',
        after: '',
        before_header: `zfs ${name}`,
        after_header: `zfs ${name}`,
      },
      predict: destroyed.filter((d) => !d.includes('@')).map((d) => datasetSlot.entry(d, null)),
    };
  }

  const wanted = a.properties;
  const names = Object.keys(wanted);
  const after: Record<string, ZfsProperty> = {};
  let plan: Plan;
  const refused = f.exists ? refusedOnExisting(f, a) : undefined;
  if (refused) return { changes: [], fail: refused };
  if (!f.exists) {
    for (const n of names) after[n] = { value: canonicalValue(n, wanted[n], f.version), source: 'local' };
    const mountpoint = mountpointOfNew(a, f);
    const opts = names.flatMap((n) => ['-o', `${n}=${wanted[n]}`]);
    const datasets: Array<[string, PredictedDataset]> = [[name, { exists: true, properties: after, mountpoint }]];
    // `create -p` also makes the missing parents; later tasks of a check run should see them
    for (const anc of ancestorsOf(name)) {
      if (anc === f.ancestor?.name) break;
      datasets.push([
        anc,
        { exists: true, properties: {}, mountpoint: mountpointOfNew({ ...a, name: anc, properties: {} }, f) },
      ]);
    }
    const predict: PredictionWrite[] = datasets.map(([n, d]) => datasetSlot.entry(n, d));
    // a new filesystem is mounted at once: its mountpoint is a directory for the file modules too
    for (const [, d] of datasets) {
      if (d.mountpoint.startsWith('/'))
        predict.push(
          pathSlot.entry(d.mountpoint, {
            exists: true,
            type: 'directory',
            mode: 0o755,
            uid: 0,
            gid: 0,
            owner: 'root',
            group: 'root',
          }),
        );
    }
    plan = {
      changes: [{ description: `create dataset ${name}`, argv: ['zfs', 'create', '-p', ...opts, '--', name] }],
      msg: `created ${name}`,
      result: { name, created: true, mountpoint, properties: valuesOf(after), changed_properties: names },
      diff: {
        before: '',
        after: `${name}\n${describeProps(after, names)}\n`,
        before_header: `zfs ${name}`,
        after_header: `zfs ${name}`,
      },
      predict,
    };
  } else {
    const toSet = names.filter((n) => propertyNeedsSet(n, f.properties[n], wanted[n], a.properties_source, f.version));
    for (const n of names)
      after[n] = toSet.includes(n)
        ? { value: canonicalValue(n, wanted[n], f.version), source: 'local' }
        : f.properties[n];
    const mountpoint = toSet.includes('mountpoint')
      ? canonicalValue('mountpoint', wanted.mountpoint)
      : (f.properties.mountpoint?.value ?? '-');
    plan = {
      changes: toSet.length
        ? [
            {
              description: `set ${toSet.join(', ')} on ${name}`,
              argv: ['zfs', 'set', '--', ...toSet.map((n) => `${n}=${wanted[n]}`), name],
            },
          ]
        : [],
      msg: toSet.length ? `set ${toSet.map((n) => `${n}=${wanted[n]}`).join(' ')}` : `dataset ${name} is as wanted`,
      result: { name, created: false, mountpoint, properties: valuesOf(after), changed_properties: toSet },
      diff: {
        before: `${name}\n${describeProps(f.properties, names)}\n`,
        after: `${name}\n${describeProps(after, names)}\n`,
        before_header: `zfs ${name}`,
        after_header: `zfs ${name}`,
      },
      predict: toSet.length
        ? [datasetSlot.entry(name, { exists: true, properties: { ...f.properties, ...after }, mountpoint })]
        : undefined,
    };
  }
  if (f.predicted) plan.msg = `${plan.msg} (after the changes earlier tasks would make)`;
  return plan;
}

/**
 * What zfs would refuse on the existing dataset, said before any command: a
 * filesystem property on a volume (zfs_prop_init()'s type column), or a
 * create-only property (PROP_ONETIME: casesensitivity, utf8only, …) that differs.
 */
function refusedOnExisting(f: ZfsDatasetFacts, a: ZfsDatasetArgs): string | undefined {
  const names = Object.keys(a.properties);
  const type = f.properties.type?.value;
  if (type === 'volume') {
    const fsOnly = names.filter((n) => !n.includes(':') && !appliesTo(n, 'volume'));
    if (fsOnly.length)
      return `'${a.name}' is a volume: ${fsOnly.map((n) => `'${n}'`).join(', ')} does not apply to volumes (zfs_dataset manages filesystems)`;
  }
  const fixed = names.filter(
    (n) => isCreateOnly(n) && propertyNeedsSet(n, f.properties[n], a.properties[n], 'any', f.version),
  );
  if (fixed.length)
    return `cannot change ${fixed.map((n) => `${n} (${f.properties[n]?.value ?? '-'})`).join(', ')} of '${a.name}': zfs sets ${fixed.length > 1 ? 'them' : 'it'} only when a dataset is created`;
  return undefined;
}

function valuesOf(props: Record<string, ZfsProperty>): Record<string, string> {
  return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, v.value]));
}

// ---------------------------------------------------------------- module

export default defineModule<ZfsDatasetArgs, ZfsDatasetFacts>({
  name: 'zfs_dataset',
  description: 'A ZFS dataset exists with the given properties (sizes compared in bytes), or is destroyed',
  args,
  facts: (ctx, a) => (a.state === 'absent' ? readTree(ctx, a) : readPresent(ctx, a)),
  overlay,
  plan: (f, a) => planZfsDataset(f, a),
  verify: true,
});
