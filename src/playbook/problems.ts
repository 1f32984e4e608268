// Collects every problem found while loading a playbook, so the user sees all
// of them at once, each located at the offending key or value.
import { PhxError, ValidationErrors, type SourceLoc } from '../errors.js';
import { locate, locateValue, sourceLine } from '../yaml-source.js';

export class Problems {
  readonly errors: PhxError[] = [];
  private readonly seen = new Set<string>();

  add(message: string, loc: SourceLoc | undefined, hint?: string): void {
    const id = `${loc ? `${loc.file}:${loc.line}:${loc.col}` : ''}\0${message}`;
    if (this.seen.has(id)) return; // a file imported twice reports its problems once
    this.seen.add(id);
    this.errors.push(new PhxError(message, loc, hint));
  }

  /** Records whatever a checker threw; a PhxError without a location gets `loc`. */
  addThrown(e: unknown, loc: SourceLoc | undefined): void {
    if (e instanceof ValidationErrors)
      for (const inner of e.errors) this.add(inner.message, inner.loc ?? loc, inner.hint);
    else if (e instanceof PhxError) this.add(e.message, e.loc ?? loc, e.hint);
    else if (e instanceof Error) this.add(e.message, loc);
    else this.add(String(e), loc);
  }

  /** Runs a checker that throws on bad input, recording what it throws. */
  attempt(loc: SourceLoc | undefined, check: () => void): void {
    try {
      check();
    } catch (e) {
      this.addThrown(e, loc);
    }
  }

  /** Throws them all: files in the order first met, each file's problems by position. */
  throwIfAny(): void {
    if (!this.errors.length) return;
    const fileOrder = new Map<string, number>();
    for (const e of this.errors) if (e.loc && !fileOrder.has(e.loc.file)) fileOrder.set(e.loc.file, fileOrder.size);
    const rank = (e: PhxError) => (e.loc ? [fileOrder.get(e.loc.file) ?? 0, e.loc.line, e.loc.col] : [-1, 0, 0]);
    const sorted = [...this.errors].sort((a, b) => {
      const [x, y] = [rank(a), rank(b)];
      return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
    });
    throw new ValidationErrors(sorted);
  }
}

/** Where `key` of a YAML mapping (or item of a list) starts, else `fallback`. */
export function keyLoc(container: unknown, key: string | number, fallback: SourceLoc): SourceLoc {
  return locate(container, key) ?? fallback;
}

/** Where the value under `key` starts, else `fallback`. */
export function valueLoc(container: unknown, key: string | number, fallback: SourceLoc): SourceLoc {
  return locateValue(container, key) ?? fallback;
}

/** Lines of the files this loader read, split once (yaml-source's sourceLine splits per call). */
const fileLines = new Map<string, string[]>();

export function rememberSource(file: string, text: string): void {
  fileLines.set(file, text.split('\n'));
}

function lineAt(loc: SourceLoc): string | undefined {
  const lines = fileLines.get(loc.file);
  return lines ? lines[loc.line - 1] : sourceLine(loc);
}

/**
 * Where the text of a scalar starts: past an opening quote, or on the first
 * line of a block scalar (`|`, `>`). `offset` moves further into a one-line text.
 */
export function textLoc(loc: SourceLoc, offset = 0): SourceLoc {
  const line = lineAt(loc);
  if (line === undefined) return offset ? { ...loc, col: loc.col + offset } : loc;
  const first = line[loc.col - 1];
  if (first === '"' || first === "'") return { ...loc, col: loc.col + 1 + offset };
  if (first === '|' || first === '>') {
    const next = lineAt({ ...loc, line: loc.line + 1 });
    if (next !== undefined) {
      const indent = next.length - next.trimStart().length;
      return { file: loc.file, line: loc.line + 1, col: indent + 1 + offset };
    }
  }
  return { ...loc, col: loc.col + offset };
}

/** A short description of a YAML value for messages: `"x"`, `3`, `a mapping`. */
export function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 37) + '...' : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return `a ${typeof value}`;
}

export function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
