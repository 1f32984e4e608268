// Owner and group arguments: names or numeric ids, resolved on the host (the
// controller's /etc/passwd says nothing about the target's).
import * as z from 'zod';
import type { Account } from './probe.js';

/** `owner:`/`group:` argument: a name or a numeric id (YAML may give a number). */
export const accountArg = z.union([z.string().min(1), z.number().int().nonnegative()]);

export type Resolved = { id: number; name: string } | { error: string };

/**
 * Resolves a user or group argument from the probe's lookups. A numeric id
 * that the host does not know is still valid (chown accepts it), named by
 * its number like Ansible does.
 */
export function resolveAccount(
  arg: string,
  lookups: Map<string, Account | undefined>,
  kind: 'user' | 'group',
): Resolved {
  const found = lookups.get(arg);
  if (found) return { id: found.id, name: found.name };
  if (/^\d+$/.test(arg)) return { id: Number(arg), name: arg };
  return kind === 'user'
    ? { error: `chown failed: failed to look up user ${arg}` }
    : { error: `chgrp failed: failed to look up group ${arg}` };
}

/** Text for a diff side from a few attributes: "path: /x\nstate: absent\n". */
export function attrsText(attrs: Record<string, string | number | undefined>): string {
  return Object.entries(attrs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}: ${v}\n`)
    .join('');
}
