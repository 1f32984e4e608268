// Ansible converts each module argument to the type the module declares
// (lib/ansible/module_utils/common/validation.py: check_type_bool through
// parsing/convert_bool.py's BOOLEANS_TRUE/BOOLEANS_FALSE, check_type_int):
// `system: "yes"`, `create_home: 'no'`, `gid: "915"` are a boolean and a
// number. phx-play's schemas are typed, so a string (or 1/0) given where the
// argument takes a boolean or a number but no string is converted the same way
// before the schema checks it; anything else is left for the schema to refuse.
import type { z } from 'zod';
import { acceptedTypes, knownKeys } from './zod-introspect.js';

const TRUE = /^(y|yes|on|1|true|t)$/i;
const FALSE = /^(n|no|off|0|false|f)$/i;
const NUMBER = /^-?\d+(\.\d+)?$/;

/** one argument's value converted to what its schema takes, when Ansible would convert it */
export function coerceScalar(value: unknown, schema: z.ZodType | undefined): unknown {
  if (!schema || (typeof value !== 'string' && typeof value !== 'number')) return value;
  const types = acceptedTypes(schema);
  if (types.has('any') || types.has(typeof value)) return value;
  if (typeof value === 'number') {
    if (types.has('boolean') && (value === 1 || value === 0)) return value === 1;
    return value;
  }
  if (types.has('string')) return value;
  const text = value.trim();
  if (types.has('number') && NUMBER.test(text)) return Number(text);
  if (types.has('boolean')) {
    if (TRUE.test(text)) return true;
    if (FALSE.test(text)) return false;
  }
  return value;
}

/** the top-level arguments of a module call converted as coerceScalar says (a new object) */
export function coerceArgs(schema: z.ZodType, args: unknown): unknown {
  const known = knownKeys(schema);
  if (!known || args === null || typeof args !== 'object' || Array.isArray(args)) return args;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args as Record<string, unknown>)) out[k] = coerceScalar(v, known.get(k));
  return out;
}
