// How a decrypted vault value stays secret (docs/VAULT.md "How secrecy works").
//
// Decrypted values are plain strings in the vars (templates use them as any
// value), but every one is registered here, and two things follow from that:
//
// 1. A task that *reads* a secret is no_log. Each task on a host runs inside
//    `watchSecretUse`; the template renderer and the expression evaluator call
//    `noteSecretRead` on every variable they look up (and every member on the
//    way), so `{{ pw | b64encode }}` counts as well as `{{ pw }}`. What such a
//    task registers or sets as facts is secret in turn.
// 2. Every output is masked: each event goes through `maskDeep` before any
//    reporter sees it (human, --json, --diff, -v…-vvv), and error messages through
//    `maskSecrets`, so a secret that reached a text some other way (a host that
//    echoes it, a message) is shown as ********.
import { AsyncLocalStorage } from 'node:async_hooks';
import { PhxError } from '../errors.js';
import { UnsafeText } from '../unsafe.js';

export const MASK = '********';
/**
 * Secrets shorter than this are not searched for in output text (masking every
 * `22` or `yes` would garble the output); tasks that read them are still no_log.
 */
export const MIN_MASKED_LENGTH = 4;

const secretTexts = new Set<string>();
/** lists and mappings that came out of vaulted data or a task that read a secret */
const secretContainers = new WeakSet<object>();
let maskable: string[] | undefined;

export function registerSecretText(text: string): void {
  if (text === '' || secretTexts.has(text)) return;
  if (secretTexts.size === 0 && unwatched > 0) unwatchedSawFirstSecret = true;
  secretTexts.add(text);
  maskable = undefined;
}

export function hasSecrets(): boolean {
  return secretTexts.size > 0;
}

/** Registers every string in `value` (and marks its lists/mappings): for a vaulted file, set_fact of a secret. */
export function markSecretData(value: unknown, depth = 0): void {
  if (typeof value === 'string') return registerSecretText(value);
  if (value instanceof UnsafeText) return registerSecretText(value.text);
  if (value === null || typeof value !== 'object' || depth > 200 || secretContainers.has(value)) return;
  secretContainers.add(value);
  for (const v of Array.isArray(value) ? value : Object.values(value)) markSecretData(v, depth + 1);
}

/** Marks the lists/mappings of `value` only (a registered result of a task that read a secret). */
export function markSecretContainers(value: unknown, depth = 0): void {
  if (value === null || typeof value !== 'object' || value instanceof UnsafeText || depth > 200) return;
  if (secretContainers.has(value)) return;
  secretContainers.add(value);
  for (const v of Array.isArray(value) ? value : Object.values(value)) markSecretContainers(v, depth + 1);
}

function isSecretValue(value: unknown): boolean {
  if (typeof value === 'string') return secretTexts.has(value);
  if (value instanceof UnsafeText) return secretTexts.has(value.text);
  return value !== null && typeof value === 'object' && secretContainers.has(value);
}

interface Watch {
  touched: boolean;
}
const watch = new AsyncLocalStorage<Watch>();
/**
 * Tasks started while no secret existed run without a Watch: AsyncLocalStorage turns on
 * Node's promise hooks for the rest of the process, a tenth of a run's CPU, and until a
 * secret's text exists nothing can be read as one (noteSecretRead). Should the first secret
 * appear while such tasks run (include_vars of a vaulted file), they count as having read it.
 */
let unwatched = 0;
let unwatchedSawFirstSecret = false;

/** Runs `fn` (a task on one host, a title's rendering) noting whether it reads a secret. */
export function watchSecretUse<T>(fn: () => T): T {
  if (secretTexts.size > 0) return watch.run({ touched: false }, fn);
  unwatched++;
  let result: T;
  try {
    result = fn();
  } catch (e) {
    endUnwatched();
    throw e;
  }
  if (result instanceof Promise) return result.finally(endUnwatched) as T;
  endUnwatched();
  return result;
}

function endUnwatched(): void {
  if (--unwatched === 0) unwatchedSawFirstSecret = false;
}

export function isSecretContainer(value: unknown): boolean {
  return value !== null && typeof value === 'object' && secretContainers.has(value);
}

/**
 * Called by the renderer and the evaluator with the value a variable reference
 * (`pw`, `r.stdout`) resolves to; `viaSecret` when the path went through a secret
 * list/mapping. Text or data read that way counts; a number or boolean out of it
 * (`r.changed`) does not.
 */
export function noteSecretRead(value: unknown, viaSecret = false): void {
  if (secretTexts.size === 0) return;
  const w = watch.getStore();
  if (!w || w.touched) return;
  if (
    isSecretValue(value) ||
    (viaSecret && (typeof value === 'string' || (value !== null && typeof value === 'object')))
  )
    w.touched = true;
}

/** Has the task running here read a secret so far (or is one of `values` holding one)? */
export function secretUsed(...values: unknown[]): boolean {
  const w = watch.getStore();
  if (w ? w.touched : unwatchedSawFirstSecret) return true;
  return values.some(holdsSecretText);
}

/** Does any string in `value` hold a secret (a whole short one, or a maskable one inside)? */
export function holdsSecretText(value: unknown, depth = 0): boolean {
  if (secretTexts.size === 0 || depth > 200) return false;
  if (typeof value === 'string') return secretTexts.has(value) || maskableIn(value);
  if (value instanceof UnsafeText) return holdsSecretText(value.text, depth);
  if (value === null || typeof value !== 'object') return false;
  if (secretContainers.has(value)) return true;
  for (const v of Array.isArray(value) ? value : Object.values(value)) if (holdsSecretText(v, depth + 1)) return true;
  return false;
}

function maskableTexts(): string[] {
  maskable ??= [...secretTexts].filter((s) => s.length >= MIN_MASKED_LENGTH).sort((a, b) => b.length - a.length);
  return maskable;
}

function maskableIn(text: string): boolean {
  return maskableTexts().some((s) => text.includes(s));
}

/** `text` with every secret (of MIN_MASKED_LENGTH or more) replaced by ********. */
export function maskSecrets(text: string): string {
  if (secretTexts.size === 0) return text;
  let out = text;
  for (const s of maskableTexts()) if (out.includes(s)) out = out.split(s).join(MASK);
  return out;
}

/** A copy of `value` with every string masked; the same object when nothing needed masking. */
export function maskDeep<T>(value: T, depth = 0): T {
  if (secretTexts.size === 0) return value;
  if (typeof value === 'string') return maskSecrets(value) as T;
  if (value instanceof UnsafeText) {
    const m = maskSecrets(value.text);
    return (m === value.text ? value : m) as T;
  }
  if (value === null || typeof value !== 'object' || depth > 200) return value;
  if (Array.isArray(value)) {
    const items = value.map((v: unknown) => maskDeep(v, depth + 1));
    return (items.some((v, i) => v !== value[i]) ? items : value) as T;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return value;
  const entries = Object.entries(value as Record<string, unknown>);
  const masked = entries.map(([k, v]) => [maskSecrets(k), maskDeep(v, depth + 1)] as const);
  if (masked.every(([k, v], i) => k === entries[i][0] && v === entries[i][1])) return value;
  return Object.fromEntries(masked) as T;
}

/** Counts as a read when `value` holds a secret's text (rendered arguments: a secret reached without a lookup). */
export function noteSecretInside(value: unknown): void {
  const w = watch.getStore();
  if (w && !w.touched && holdsSecretText(value)) w.touched = true;
}

/** The refusal of a command line holding a secret: its message names none, so it is shown even when the task is hidden. */
export class SecretOnCommandLine extends PhxError {
  constructor() {
    super(
      'a vault secret would be on the command line of the host (visible in ps to every user); ' +
        'pass it through environment:, stdin or a file instead',
    );
  }
}
