// -e values: `k=v k2="a b"`, JSON, YAML, or @file (YAML/JSON). Later -e wins.
// A file's contents are data from outside the playbook: unsafe text, never rendered.
import { PhxError } from '../errors.js';
import { markUnsafe } from '../unsafe.js';
import { parseYaml, readTextFile } from '../yaml-source.js';

/** Splits `a=1 b="x y" c='z'` like Ansible's parse_kv (quotes group, backslash escapes). */
export function parseKeyValues(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i])) i++;
    if (i >= text.length) break;
    let token = '';
    let quote: string | null = null;
    for (; i < text.length; i++) {
      const c = text[i];
      if (quote) {
        if (c === '\\' && i + 1 < text.length && (text[i + 1] === quote || text[i + 1] === '\\')) token += text[++i];
        else if (c === quote) quote = null;
        else token += c;
      } else if (c === '"' || c === "'") quote = c;
      else if (/\s/.test(c)) break;
      else token += c;
    }
    if (quote) throw new PhxError(`unterminated quote in '${text}'`);
    const eq = token.indexOf('=');
    if (eq <= 0) throw new PhxError(`expected key=value, got '${token}' in -e '${text}'`);
    out[token.slice(0, eq)] = token.slice(eq + 1);
  }
  return out;
}

export function parseExtraVars(values: string[], cwd = process.cwd()): Record<string, unknown> {
  const merged: Record<string, unknown> = {};
  for (const raw of values) {
    let parsed: unknown;
    if (raw.startsWith('@')) {
      const file = raw.slice(1);
      let text: string;
      try {
        text = readTextFile(file.startsWith('/') ? file : `${cwd}/${file}`);
      } catch (e) {
        if (e instanceof PhxError) throw e;
        throw new PhxError(
          `-e ${raw}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
        );
      }
      parsed = markUnsafe(parseYaml(text, file));
    } else if (/^\s*[{[]/.test(raw)) {
      parsed = parseYaml(raw, '-e');
    } else {
      parsed = parseKeyValues(raw);
    }
    if (parsed === null || parsed === undefined) continue;
    if (typeof parsed !== 'object' || Array.isArray(parsed))
      throw new PhxError(`-e ${raw}: expected a mapping of variables`);
    Object.assign(merged, parsed);
  }
  return merged;
}
