// Ansible's [DEPRECATION WARNING]s about the content run: each text once per run, as its
// Display.deprecated keeps one of each (utils/display.py), whether met when the playbook is
// loaded or in a file a dynamic include loads at run time.
import type { RunContext } from './context.js';

const shown = new WeakMap<RunContext, Set<string>>();

export function showDeprecation(ctx: RunContext, message: string): void {
  const seen = shown.get(ctx) ?? new Set<string>();
  shown.set(ctx, seen);
  if (seen.has(message)) return;
  seen.add(message);
  ctx.reporter.emit({ type: 'warning', message, deprecation: true });
}
