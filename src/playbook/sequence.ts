// with_sequence: the numbers of Ansible's sequence lookup (plugins/lookup/sequence.py), as
// strings: `start=1 end=5 stride=2 format=x%02d`, `count=4`, or the short form `[start-]end[/stride][:format]`.
import { parseKv } from './kv.js';

/** A sequence longer than this is a mistake (a typo in end or stride). */
export const MAX_SEQUENCE_ITEMS = 100_000;

/** sequence.py's SHORTCUT: `[start-]end[/stride][:format]`, numbers in decimal, octal or hex */
const SHORTCUT = /^((0?x?[0-9a-f]+)-)?(0?x?[0-9a-f]+)(\/(0?x?[0-9a-f]+))?(:(.+))?$/i;

interface Spec {
  start: number;
  end?: number;
  count?: number;
  stride: number;
  format: string;
}

/** The items of one term, or an Error whose message says what is wrong with it. */
export function sequenceItems(term: string): string[] {
  const spec: Spec = { start: 1, stride: 1, format: '%d' };
  const text = term.trim();
  const short = SHORTCUT.exec(text);
  if (short) {
    if (short[2] !== undefined) spec.start = integer('start', short[2]);
    spec.end = integer('end', short[3]);
    if (short[5] !== undefined) spec.stride = integer('stride', short[5]);
    if (short[7] !== undefined) spec.format = short[7];
  } else readKv(text, spec);
  return generate(checked(spec));
}

function readKv(text: string, spec: Spec): void {
  const { pairs, free } = parseKv(text);
  if (free.length > 0)
    throw new Error(`cannot read with_sequence arguments ${JSON.stringify(text)}: expected key=value or 4-8/2`);
  for (const { key, value } of pairs) {
    if (key === 'start' || key === 'end' || key === 'count' || key === 'stride') spec[key] = integer(key, value);
    else if (key === 'format') spec.format = value;
    else throw new Error(`unrecognized argument to with_sequence: '${key}' (start, end, count, stride, format)`);
  }
}

/** Python's int(x, 0): decimal without leading zeros, 0x hex, 0o octal, 0b binary. */
function integer(name: string, raw: string): number {
  const s = raw.trim().replace(/_/g, '');
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|[1-9][0-9]*|0+)$/.exec(s);
  if (!m) throw new Error(`can't parse ${name}=${raw} as integer`);
  const body = m[2];
  const n = /^0[xob]/i.test(body)
    ? parseInt(body.slice(2), { x: 16, o: 8, b: 2 }[body[1].toLowerCase()])
    : Number(body);
  return m[1] === '-' ? -n : n;
}

/** sequence.py sanity_check: count becomes end; the stride points the right way; one % in the format. */
function checked(spec: Spec): Required<Omit<Spec, 'count'>> {
  if (spec.count === undefined && spec.end === undefined) throw new Error('must specify count or end in with_sequence');
  if (spec.count !== undefined && spec.end !== undefined)
    throw new Error("can't specify both count and end in with_sequence");
  let { start, stride } = spec;
  let end = spec.end ?? 0;
  if (spec.count !== undefined) {
    if (spec.count !== 0) end = start + spec.count * stride - 1;
    else [start, end, stride] = [0, 0, 0];
  }
  if (stride > 0 && end < start) throw new Error('to count backwards make stride negative');
  if (stride < 0 && end > start) throw new Error("to count forward don't make stride negative");
  if ((spec.format.match(/%/g) ?? []).length !== 1) throw new Error(`bad formatting string: ${spec.format}`);
  return { start, end, stride, format: spec.format };
}

function generate({ start, end, stride, format }: Required<Omit<Spec, 'count'>>): string[] {
  if (stride === 0) return [];
  // Python's range(start, end + adjust, stride)
  const stop = end + (stride > 0 ? 1 : -1);
  const n = Math.max(0, Math.ceil((stop - start) / stride));
  if (n > MAX_SEQUENCE_ITEMS) throw new Error(`with_sequence makes ${n} items (at most ${MAX_SEQUENCE_ITEMS})`);
  return Array.from({ length: n }, (_, i) => printf(format, start + i * stride));
}

/** Python's `format % number` for a format holding one conversion: flags, width, precision, d i o u x X s. */
function printf(format: string, n: number): string {
  const m = /%([-+ 0#]*)(\d*)(?:\.(\d+))?([diouxXs])/.exec(format);
  if (!m) throw new Error(`problem formatting ${JSON.stringify(format)} with ${n}`);
  const [whole, flags, width, precision, conv] = m;
  const neg = n < 0;
  const abs = Math.abs(n);
  let digits =
    conv === 'x'
      ? abs.toString(16)
      : conv === 'X'
        ? abs.toString(16).toUpperCase()
        : conv === 'o'
          ? abs.toString(8)
          : String(abs);
  if (precision !== undefined && conv !== 's') digits = digits.padStart(Number(precision), '0');
  if (flags.includes('#') && (conv === 'x' || conv === 'X' || conv === 'o')) digits = `0${conv}${digits}`;
  const sign = neg ? '-' : flags.includes('+') ? '+' : flags.includes(' ') ? ' ' : '';
  const w = Number(width || 0);
  let body = sign + digits;
  if (body.length < w) {
    if (flags.includes('-')) body = body.padEnd(w);
    else if (flags.includes('0') && conv !== 's') body = sign + digits.padStart(w - sign.length, '0');
    else body = body.padStart(w);
  }
  return format.slice(0, m.index) + body + format.slice(m.index + whole.length);
}
