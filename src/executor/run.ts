// A whole run: every play of the playbook(s) over the inventory, one
// connection per host opened on first use and reused, then the recap.
import { performance } from 'node:perf_hooks';
import { Interrupted, UnreachableError } from '../errors.js';
import type { Connection } from '../connection/types.js';
import type { Reporter, RecapCounters } from '../events.js';
import { hostVariables, type Inventory } from '../inventory/index.js';
import type { Playbook } from '../playbook/types.js';
import type { ModuleRegistry } from '../registry.js';
import type { ExecutorOptions, RunContext } from './context.js';
import { HostState } from './host.js';
import { showDeprecation } from './deprecations.js';
import { runPlay } from './play.js';
import { plain, plainValues } from '../unsafe.js';
import { SharedScopes } from '../shared-scope.js';

export interface RunDependencies {
  inventory: Inventory;
  registry: ModuleRegistry;
  reporter: Reporter;
  /**
   * makes an unconnected Connection for a host from its variables; `via` gives the
   * run's connection to another host (a pct container goes through its hypervisor's)
   */
  makeConnection(host: string, vars: Record<string, unknown>, via: (host: string) => Promise<Connection>): Connection;
}

/** Connections one host may have open at once in a run: one per remote user (a bound, not a pool size). */
export const MAX_CONNECTIONS_PER_HOST = 8;

export interface RunOutcome {
  hosts: Record<string, RecapCounters>;
  /** 130 when interrupted (Ctrl-C), as a shell reports it */
  exitCode: number;
  /** --check: did anything report changed? */
  changesPending: boolean;
}

export async function runPlaybooks(
  playbooks: Playbook[],
  options: ExecutorOptions,
  deps: RunDependencies,
): Promise<RunOutcome> {
  const started = performance.now();
  const hosts = new Map<string, HostState>();
  const hostState = (name: string, playbookDir: string): HostState => {
    let h = hosts.get(name);
    if (!h) {
      h = new HostState(name, hostVariables(deps.inventory, name, { playbookDir }));
      hosts.set(name, h);
    }
    return h;
  };
  // by host, connection type and user (see connect)
  const opening = new Map<string, Promise<Connection>>();
  const perHostCount = new Map<string, number>();
  let interrupted = false;
  const ctx: RunContext = {
    options,
    reporter: deps.reporter,
    registry: deps.registry,
    inventory: deps.inventory,
    hosts,
    hostState,
    scopes: new SharedScopes(),
    started: options.startAtTask === undefined,
    connect(name, playDefaults) {
      const h = hosts.get(name);
      const vars = h?.inventoryVars ?? hostVariables(deps.inventory, name, {});
      const { user, ...keywords } = playDefaults;
      const defaults = Object.fromEntries(Object.entries(keywords).filter(([, v]) => v !== undefined));
      const settings: Record<string, unknown> = {
        ...defaults,
        ...vars,
        ...(h?.facts ?? {}),
        ...options.extraVars,
        ...(user !== undefined ? { ansible_user: user } : {}),
      };
      // one connection per host and user: a task with another remote_user needs its own (as Ansible
      // reconnects when the play context differs); bounded, all closed at the end of the run
      const key = JSON.stringify([
        name,
        plain(settings.ansible_connection) ?? null,
        plain(settings.ansible_user) ?? plain(settings.ansible_ssh_user) ?? null,
      ]);
      let p = opening.get(key);
      if (!p) {
        // every task asks; only a new connection needs all the settings as plain data
        const connVars = plainValues(settings);
        const perHost = (perHostCount.get(name) ?? 0) + 1;
        if (perHost > MAX_CONNECTIONS_PER_HOST)
          return Promise.reject(
            new UnreachableError(
              `host ${name}: more than ${MAX_CONNECTIONS_PER_HOST} connections (remote users) in one run`,
            ),
          );
        perHostCount.set(name, perHost);
        // a host reached through this one (a container on its hypervisor) shares its one
        // connection, opened here once and closed once below; the play's `connection:` is not the hypervisor's
        const via = (other: string) => ctx.connect(other, { ...keywords, ansible_connection: undefined });
        const conn = deps.makeConnection(name, connVars, via);
        p = conn.connect().then(() => conn);
        opening.set(key, p);
        if (h && !h.conn)
          p.then(
            (c) => (h.conn ??= c),
            () => {},
          );
      }
      return p.catch((e) => {
        throw e instanceof UnreachableError ? e : new UnreachableError((e as Error).message);
      });
    },
  };
  try {
    for (const pb of playbooks) {
      deps.reporter.emit({ type: 'playbook_start', playbook: pb.file, check: options.check });
      // printed when the playbook is parsed, before its first play, as Ansible's Display.deprecated does
      for (const message of pb.deprecations ?? []) showDeprecation(ctx, message);
      for (const play of pb.plays) {
        // host states exist before the play selects hosts, so hostvars sees them all
        for (const name of deps.inventory.hosts.keys()) hostState(name, play.baseDir);
        await runPlay(ctx, play);
      }
    }
  } catch (e) {
    if (!(e instanceof Interrupted)) throw e;
    interrupted = true; // the recap so far, below
  } finally {
    await Promise.allSettled([...opening.values()].map(async (p) => (await p).close()));
  }
  const recap: Record<string, RecapCounters> = {};
  for (const [name, h] of hosts) if (touched(h.counters)) recap[name] = h.counters;
  deps.reporter.emit({ type: 'recap', hosts: recap, durationMs: performance.now() - started });
  const all = Object.values(recap);
  const failed = all.some((c) => c.failed > 0);
  const unreachable = all.some((c) => c.unreachable > 0);
  const changesPending = all.some((c) => c.changed > 0);
  const exitCode = interrupted ? 130 : failed ? 2 : unreachable ? 4 : 0;
  return { hosts: recap, exitCode, changesPending };
}

function touched(c: RecapCounters): boolean {
  return Object.values(c).some((n) => n > 0);
}
