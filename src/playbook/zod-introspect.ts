// Reading a module's zod argument schema: which argument names exist (so an
// unknown one is reported even when the schema would silently strip it), and
// what type an argument wants (so `port=22` from an inline string becomes 22).
import type { z } from 'zod';

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  options?: z.ZodType[];
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  left?: z.ZodType;
  right?: z.ZodType;
  values?: unknown[];
  entries?: Record<string, unknown>;
  getter?: () => z.ZodType;
}

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

const WRAPPERS = new Set([
  'optional',
  'nullable',
  'default',
  'prefault',
  'catch',
  'readonly',
  'nonoptional',
  'success',
]);

function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (let i = 0; i < 20; i++) {
    const d = defOf(s);
    if (WRAPPERS.has(d.type) && d.innerType) s = d.innerType;
    else if (d.type === 'lazy' && d.getter) s = d.getter();
    else if (d.type === 'pipe' && d.in && defOf(d.in).type !== 'transform') s = d.in;
    else if (d.type === 'pipe' && d.out) s = d.out;
    else return s;
  }
  return s;
}

// Schemas do not change: what is read from one is kept (the executor asks per task and host).
const knownKeysOf = new WeakMap<z.ZodType, ReadonlyMap<string, z.ZodType> | undefined>();
const acceptedTypesOf = new WeakMap<z.ZodType, ReadonlySet<string>>();

/** Argument names the schema knows, or undefined when any name is accepted (records, passthrough). */
export function knownKeys(schema: z.ZodType): ReadonlyMap<string, z.ZodType> | undefined {
  if (knownKeysOf.has(schema)) return knownKeysOf.get(schema);
  const keys = readKnownKeys(schema);
  knownKeysOf.set(schema, keys);
  return keys;
}

function readKnownKeys(schema: z.ZodType): Map<string, z.ZodType> | undefined {
  const s = unwrap(schema);
  const d = defOf(s);
  if (d.type === 'object' && d.shape) {
    if (d.catchall && defOf(d.catchall).type !== 'never') return undefined;
    return new Map(Object.entries(d.shape));
  }
  if ((d.type === 'union' && d.options) || (d.type === 'intersection' && d.left && d.right)) {
    const parts = d.options ?? [d.left as z.ZodType, d.right as z.ZodType];
    const all = new Map<string, z.ZodType>();
    for (const o of parts) {
      const keys = knownKeys(o);
      if (!keys) {
        const od = defOf(unwrap(o)).type;
        if (od === 'object' || od === 'record' || od === 'union' || od === 'intersection') return undefined;
        continue; // a non-object branch (e.g. a bare string) adds no names
      }
      for (const [k, v] of keys) if (!all.has(k)) all.set(k, v);
    }
    return all;
  }
  return undefined;
}

/** The scalar types a schema accepts: 'string' | 'number' | 'boolean' | 'any' | ... */
export function acceptedTypes(schema: z.ZodType): ReadonlySet<string> {
  let types = acceptedTypesOf.get(schema);
  if (!types) {
    types = readAcceptedTypes(schema);
    acceptedTypesOf.set(schema, types);
  }
  return types;
}

function readAcceptedTypes(schema: z.ZodType): Set<string> {
  const s = unwrap(schema);
  const d = defOf(s);
  switch (d.type) {
    case 'union':
      return new Set((d.options ?? []).flatMap((o) => [...acceptedTypes(o)]));
    case 'enum':
      return new Set(Object.values(d.entries ?? {}).map((v) => typeof v));
    case 'literal':
      return new Set((d.values ?? []).map((v) => typeof v));
    case 'int':
    case 'bigint':
      return new Set(['number']);
    case 'any':
    case 'unknown':
    case 'transform':
      return new Set(['any']);
    default:
      return new Set([d.type]);
  }
}
