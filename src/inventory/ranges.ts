// Host names as inventories write them: `pve[01:12]` (zero padding kept),
// `node-[a:c]`, `web[1:10:2]`, several ranges in one name, and an optional
// `:port` suffix (`host:2222`, `[::1]:2222`), as Ansible's parse_address and
// expand_hostname_range read them.
import { PhxError, type SourceLoc } from '../errors.js';

export interface HostDefinition {
  names: string[];
  port?: number;
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Splits off a port and expands ranges; bad ranges are errors located at `loc`. */
export function expandHostDefinition(text: string, loc?: SourceLoc): HostDefinition {
  const { host, port } = splitPort(text, loc);
  return { names: expandRanges(host, loc), port };
}

function splitPort(text: string, loc?: SourceLoc): { host: string; port?: number } {
  const bracketedV6 = /^\[([0-9a-fA-F:.]*:[0-9a-fA-F:.]*)\](?::(\d+))?$/.exec(text);
  if (bracketedV6)
    return { host: bracketedV6[1], port: bracketedV6[2] ? toPort(bracketedV6[2], text, loc) : undefined };
  if (isBareIPv6(text)) return { host: text };
  if (colonsOutsideBrackets(text) === 0) return { host: text };
  const m = /^(.+):(\d+)$/.exec(text);
  if (m && colonsOutsideBrackets(m[1]) === 0) return { host: m[1], port: toPort(m[2], text, loc) };
  if (text.endsWith(':')) {
    throw new PhxError(`invalid host '${text}': a trailing ':' must be followed by a port number`, loc);
  }
  return { host: text };
}

function toPort(digits: string, text: string, loc?: SourceLoc): number {
  const port = Number(digits);
  if (!(port >= 1 && port <= 65535))
    throw new PhxError(`invalid port in '${text}': ${digits} is not between 1 and 65535`, loc);
  return port;
}

export function isBareIPv6(text: string): boolean {
  return /^[0-9a-fA-F:.]+$/.test(text) && (text.includes('::') || text.split(':').length === 8);
}

function colonsOutsideBrackets(text: string): number {
  let depth = 0;
  let n = 0;
  for (const c of text) {
    if (c === '[') depth++;
    else if (c === ']') depth = Math.max(0, depth - 1);
    else if (c === ':' && depth === 0) n++;
  }
  return n;
}

/** True when the name holds a `[x:y]` range. */
export function hasRange(name: string): boolean {
  const open = name.indexOf('[');
  const close = name.indexOf(']', open + 1);
  return open >= 0 && close > open && name.slice(open + 1, close).includes(':');
}

export function expandRanges(name: string, loc?: SourceLoc): string[] {
  if (!hasRange(name)) return [name];
  const open = name.indexOf('[');
  const close = name.indexOf(']', open + 1);
  const head = name.slice(0, open);
  const tail = name.slice(close + 1);
  const spec = name.slice(open + 1, close);
  const bad = (why: string): never => {
    throw new PhxError(
      `bad host range [${spec}] in '${name}': ${why}`,
      loc,
      'ranges are [begin:end] or [begin:end:step], e.g. pve[01:12] or node-[a:c]',
    );
  };
  const bounds = spec.split(':');
  if (bounds.length !== 2 && bounds.length !== 3) bad('expected begin:end or begin:end:step');
  const begin = bounds[0] === '' ? '0' : bounds[0];
  const end = bounds[1];
  if (end === '') bad('the end value is missing');
  let step = 1;
  if (bounds.length === 3) {
    if (!/^\d+$/.test(bounds[2]) || Number(bounds[2]) < 1) bad(`step '${bounds[2]}' must be a positive integer`);
    step = Number(bounds[2]);
  }

  let items: string[];
  const a = LETTERS.indexOf(begin);
  const b = LETTERS.indexOf(end);
  if (begin.length === 1 && end.length === 1 && a >= 0 && b >= 0) {
    if (a > b) bad(`'${begin}' comes after '${end}'`);
    items = [];
    for (let i = a; i <= b; i += step) items.push(LETTERS[i]);
  } else {
    if (!/^\d+$/.test(begin) || !/^\d+$/.test(end)) bad('begin and end must both be numbers or both single letters');
    const padded = begin.length > 1 && begin.startsWith('0');
    if (padded && begin.length !== end.length)
      bad(`zero-padded begin '${begin}' and end '${end}' must have the same length`);
    const from = Number(begin);
    const to = Number(end);
    if (from > to) bad(`begin ${begin} is greater than end ${end}`);
    if ((to - from) / step > 100_000) bad('the range is too large');
    items = [];
    for (let i = from; i <= to; i += step) items.push(padded ? String(i).padStart(begin.length, '0') : String(i));
  }
  return items.flatMap((item) => expandRanges(head + item + tail, loc));
}
