// ~/.ssh/config, resolved for one destination as OpenSSH does: every `Host`
// block whose patterns match contributes, the first value obtained for a
// keyword wins, IdentityFile accumulates. Only the keywords phx-play uses.
import { readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { matchPatternList } from './known-hosts.js';

export interface SshHostConfig {
  hostName?: string;
  port?: number;
  user?: string;
  identityFiles: string[];
  /** `[user@]host[:port]` hops, outermost first; undefined when none */
  proxyJump?: string[];
  userKnownHostsFiles?: string[];
  hostKeyAlias?: string;
  strictHostKeyChecking?: string;
}

interface ConfigLine {
  keyword: string; // lower case
  args: string[];
  file: string;
  line: number;
}

export interface ResolveContext {
  homeDir: string;
  localUser: string;
  onNote?: (msg: string) => void;
}

/** Splits a config line into words, honouring double quotes, and `Keyword=value`. */
function splitWords(text: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inQuote = false;
  let have = false;
  for (const ch of text) {
    if (ch === '"') {
      inQuote = !inQuote;
      have = true;
    } else if (!inQuote && /\s/.test(ch)) {
      if (have) words.push(cur);
      cur = '';
      have = false;
    } else {
      cur += ch;
      have = true;
    }
  }
  if (have) words.push(cur);
  return words;
}

/** A file's lines as written (Include not yet expanded), and the text they were parsed from. */
interface ParsedConfigFile {
  text: string;
  lines: ConfigLine[];
}

// Every host of a run resolves the same files: each is read every time, parsed again only when its text changed.
const parsedConfigFiles = new Map<string, ParsedConfigFile>();

function configFileLines(file: string): ConfigLine[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    parsedConfigFiles.delete(file);
    return [];
  }
  const cached = parsedConfigFiles.get(file);
  if (cached?.text === text) return cached.lines;
  const lines = parseConfigText(text, file);
  parsedConfigFiles.set(file, { text, lines });
  return lines;
}

function parseConfigText(text: string, file: string): ConfigLine[] {
  const out: ConfigLine[] = [];
  text.split('\n').forEach((rawLine, i) => {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^([A-Za-z]+)\s*(?:=\s*|\s+)(.*)$/.exec(line);
    if (!m) return;
    out.push({ keyword: m[1].toLowerCase(), args: splitWords(m[2]), file, line: i + 1 });
  });
  return out;
}

function readConfigLines(file: string, ctx: ResolveContext, depth = 0): ConfigLine[] {
  const out: ConfigLine[] = [];
  for (const l of configFileLines(file)) {
    if (l.keyword !== 'include') {
      out.push(l);
      continue;
    }
    if (depth >= 8) continue;
    // Include is processed in place (inside the current Host block, as OpenSSH does).
    for (const spec of l.args) {
      const path = expandTilde(spec, ctx.homeDir);
      const full = isAbsolute(path) ? path : join(ctx.homeDir, '.ssh', path);
      for (const f of expandGlob(full)) {
        // Host blocks inside an included file end with it.
        out.push({ keyword: '@include-begin', args: [], file: l.file, line: l.line });
        out.push(...readConfigLines(f, ctx, depth + 1));
        out.push({ keyword: '@include-end', args: [], file: l.file, line: l.line });
      }
    }
  }
  return out;
}

/** Glob only in the last path component, which is how Include is used in practice. */
function expandGlob(path: string): string[] {
  const base = basename(path);
  if (!/[*?]/.test(base)) return [path];
  try {
    return readdirSync(dirname(path))
      .filter((n) => matchPatternList(n, base))
      .sort()
      .map((n) => join(dirname(path), n));
  } catch {
    return [];
  }
}

function expandTilde(p: string, home: string): string {
  if (p === '~') return home;
  if (p.startsWith('~/')) return join(home, p.slice(2));
  return p;
}

function hostBlockMatches(patterns: string[], host: string): boolean {
  let matched = false;
  for (const pat of patterns) {
    if (pat.startsWith('!')) {
      if (matchPatternList(host, pat.slice(1))) return false;
    } else if (matchPatternList(host, pat)) matched = true;
  }
  return matched;
}

/**
 * Resolves the config for `host` (the name given as destination). Files are read
 * in order (user config first, then the system one), first value wins.
 */
export function resolveSshConfig(files: readonly string[], host: string, ctx: ResolveContext): SshHostConfig {
  const cfg: SshHostConfig = { identityFiles: [] };
  const seen = new Set<string>();
  const first = (kw: string): boolean => {
    if (seen.has(kw)) return false;
    seen.add(kw);
    return true;
  };
  const raw: { identity: string[] } = { identity: [] };
  for (const file of files) {
    let active = true; // lines before the first Host apply to every host
    const saved: boolean[] = [];
    let skipping = 0; // depth inside an Include that sits in a non-matching block
    for (const l of readConfigLines(file, ctx)) {
      if (l.keyword === '@include-begin') {
        if (skipping > 0 || !active) skipping++;
        else saved.push(active);
        continue;
      }
      if (l.keyword === '@include-end') {
        if (skipping > 0) skipping--;
        else active = saved.pop() ?? true;
        continue;
      }
      if (skipping > 0) continue;
      if (l.keyword === 'host') {
        active = hostBlockMatches(l.args, host);
        continue;
      }
      if (l.keyword === 'match') {
        active = l.args.length === 1 && l.args[0].toLowerCase() === 'all';
        if (!active)
          ctx.onNote?.(`${l.file}:${l.line}: Match blocks other than "Match all" are not supported; block ignored`);
        continue;
      }
      if (!active || l.args.length === 0) continue;
      const v = l.args[0];
      switch (l.keyword) {
        case 'hostname':
          if (first('hostname')) cfg.hostName = v;
          break;
        case 'port':
          if (first('port')) {
            const n = Number(v);
            if (Number.isInteger(n) && n > 0 && n < 65536) cfg.port = n;
            else ctx.onNote?.(`${l.file}:${l.line}: bad Port ${JSON.stringify(v)} ignored`);
          }
          break;
        case 'user':
          if (first('user')) cfg.user = v;
          break;
        case 'identityfile':
          raw.identity.push(v);
          break;
        case 'proxyjump':
          if (first('proxyjump') && v.toLowerCase() !== 'none') cfg.proxyJump = v.split(',').filter((s) => s !== '');
          break;
        case 'userknownhostsfile':
          if (first('userknownhostsfile') && v.toLowerCase() !== 'none')
            cfg.userKnownHostsFiles = l.args.map((a) => expandTilde(a, ctx.homeDir));
          break;
        case 'hostkeyalias':
          if (first('hostkeyalias')) cfg.hostKeyAlias = v;
          break;
        case 'stricthostkeychecking':
          if (first('stricthostkeychecking')) cfg.strictHostKeyChecking = v.toLowerCase();
          break;
        default:
          break;
      }
    }
  }
  if (cfg.hostName !== undefined) cfg.hostName = expandTokens(cfg.hostName, { h: host });
  const remoteHost = cfg.hostName ?? host;
  const remoteUser = cfg.user ?? ctx.localUser;
  cfg.identityFiles = raw.identity.map((f) =>
    expandTilde(expandTokens(f, { d: ctx.homeDir, u: ctx.localUser, h: remoteHost, r: remoteUser }), ctx.homeDir),
  );
  return cfg;
}

function expandTokens(s: string, tokens: Record<string, string>): string {
  return s.replace(/%(.)/g, (all, t: string) => (t === '%' ? '%' : (tokens[t] ?? all)));
}

/** `[user@]host[:port]` of a ProxyJump hop (IPv6 in brackets allowed). */
export function parseJumpSpec(spec: string): { user?: string; host: string; port?: number } {
  let rest = spec;
  let user: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
  }
  let port: number | undefined;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  if (bracket) {
    rest = bracket[1];
    if (bracket[2]) port = Number(bracket[2]);
  } else {
    const m = /^([^:]+):(\d+)$/.exec(rest);
    if (m) {
      rest = m[1];
      port = Number(m[2]);
    }
  }
  return { user, host: rest, port };
}
