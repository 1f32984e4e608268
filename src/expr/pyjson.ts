// Python's json.dumps, as Ansible's to_json / to_nice_json print: `{"a": 1, "b": [1, 2]}`
// (separators ', ' and ': '), non-ASCII escaped (ensure_ascii), to_nice_json indented
// with sorted keys and ',' at line ends. So a file rendered from an Ansible template has
// the bytes Ansible would write (lib/ansible/plugins/filter/core.py: to_json, to_nice_json).
import { EvalFailure, getMember, isMapping, mappingKeys } from '../template/values.js';
import { plain } from '../unsafe.js';

export interface PyJsonOptions {
  indent?: number;
  sortKeys?: boolean;
}

const MAX_DEPTH = 200;

export function pyJsonDumps(value: unknown, options: PyJsonOptions = {}): string {
  return dump(value, options, 0);
}

function dump(value: unknown, o: PyJsonOptions, depth: number): string {
  if (depth > MAX_DEPTH) throw new EvalFailure('to_json: the value is nested too deeply (does it contain itself?)');
  const v = plain(value);
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number')
    return Number.isFinite(v) ? String(v) : Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'string') return quote(v);
  const indent = o.indent;
  const open = (items: string[], l: string, r: string): string => {
    if (!items.length) return l + r;
    if (indent === undefined) return l + items.join(', ') + r;
    const pad = '\n' + ' '.repeat(indent * (depth + 1));
    return l + pad + items.join(',' + pad) + '\n' + ' '.repeat(indent * depth) + r;
  };
  if (Array.isArray(v))
    return open(
      v.map((x) => dump(x, o, depth + 1)),
      '[',
      ']',
    );
  if (isMapping(v) || v instanceof Map) {
    const keys = v instanceof Map ? [...v.keys()].map(String) : mappingKeys(v);
    if (o.sortKeys) keys.sort();
    return open(
      keys.map((k) => `${quote(k)}: ${dump(v instanceof Map ? v.get(k) : getMember(v, k), o, depth + 1)}`),
      '{',
      '}',
    );
  }
  throw new EvalFailure(`to_json: cannot show a ${typeof v} as JSON`);
}

/** A JSON string with every non-ASCII character as \uXXXX, as Python's ensure_ascii. */
function quote(s: string): string {
  return JSON.stringify(s).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
