// The commands that need playbooks, the inventory or the module registry:
// schema, --syntax-check, --list-*, and running. Loaded by src/cli.ts once the
// command line is parsed, so `--help` (and a bad option) need none of it.
import { setMaxListeners } from 'node:events';
import { dirname, resolve } from 'node:path';
import type { CliOptions } from './args.js';
import { parseExtraVars } from './extra-vars.js';
import { listText } from './list.js';
import { askSecret, askVaultSecret } from './prompt.js';
import { Interrupted, PhxError, ValidationErrors } from '../errors.js';
import type { Reporter } from '../events.js';
import { checkHostVariables, loadInventory, selectHosts, type Inventory } from '../inventory/index.js';
import { loadPlaybook } from '../playbook/load.js';
import { playbookJsonSchema } from '../playbook/schema.js';
import type { Playbook, TaskNode } from '../playbook/types.js';
import { loadRegistry } from '../registry.js';
import { setVaultPasswords } from '../vault/keyring.js';
import { loadVaultPasswords } from '../vault/passwords.js';
import { maskSecrets } from '../vault/secrecy.js';

export async function runCommand(o: CliOptions): Promise<number> {
  const registry = await loadRegistry();
  if (o.command === 'schema') {
    process.stdout.write(JSON.stringify(playbookJsonSchema(registry), null, 2) + '\n');
    return 0;
  }

  // Vault passwords first: files are decrypted as they are read.
  setVaultPasswords(
    await loadVaultPasswords(
      { passwordFiles: o.vaultPasswordFiles, askVaultPass: o.askVaultPass, vaultIds: o.vaultIds },
      askVaultSecret,
    ),
  );
  // Everything is loaded and validated before any host is contacted.
  const extraVars = parseExtraVars(o.extraVars);
  const errors: PhxError[] = [];
  const playbooks: Playbook[] = [];
  for (const file of o.playbooks) {
    try {
      playbooks.push(loadPlaybook(resolve(file), { registry }));
    } catch (e) {
      if (e instanceof ValidationErrors) errors.push(...e.errors);
      else throw e;
    }
  }
  if (errors.length) throw new ValidationErrors(errors);
  const inventory = loadInventory(o.inventory);
  // group_vars/host_vars beside the inventory and the (first) playbook: broken files are located errors now
  checkHostVariables(inventory, { playbookDir: playbooks[0] ? dirname(playbooks[0].file) : undefined });
  if (o.syntaxCheck) {
    for (const pb of playbooks) process.stdout.write(`\nplaybook: ${pb.file}\n`);
    return 0;
  }
  checkLimitAndStart(o, playbooks, inventory);
  const tagFilter = { only: o.tags, skip: o.skipTags };
  if (o.listHosts || o.listTasks || o.listTags) {
    const list = listText(
      playbooks,
      inventory,
      { hosts: o.listHosts, tasks: o.listTasks, tags: o.listTags },
      tagFilter,
      o.limit,
    );
    process.stdout.write(maskSecrets(list));
    return 0;
  }

  const becomePassword = o.askBecomePass ? await askSecret('BECOME password: ') : undefined;
  const connPassword = o.askPass ? await askSecret('SSH password: ') : undefined;
  // ssh2, listr2 and the executor load only when something runs: --syntax-check stays fast
  const [{ openConnection }, { runPlaybooks }] = await Promise.all([
    import('../connection/index.js'),
    import('../executor/run.js'),
  ]);
  const reporter = await makeReporter(o);
  const interruption = onInterrupt(reporter);
  const outcome = await runPlaybooks(
    playbooks,
    {
      check: o.check,
      diff: o.diff,
      forks: o.forks,
      verbosity: o.verbosity,
      tags: tagFilter,
      startAtTask: o.startAtTask,
      forceHandlers: o.forceHandlers,
      extraVars,
      become: { enabled: o.become, user: o.becomeUser, password: becomePassword },
      limit: o.limit,
      signal: interruption.signal,
    },
    {
      inventory,
      registry,
      reporter,
      makeConnection: (host, vars, via) =>
        openConnection(host, vars, {
          hostConnection: via,
          password: connPassword,
          connectTimeoutMs: o.connectTimeoutSeconds * 1000,
          privateKey: o.privateKey,
          user: o.user,
          connection: o.connection,
          acceptNew: o.sshAcceptNew,
          askPassword: askSecret,
          onDebug: o.verbosity >= 3 ? (m) => reporter.emit({ type: 'debug', host, message: m }) : undefined,
        }),
    },
  ).finally(interruption.stopListening);
  await reporter.close();
  if (o.check && o.detailedExitcode && outcome.exitCode === 0) return outcome.changesPending ? 3 : 0;
  return outcome.exitCode;
}

/**
 * Ctrl-C (or SIGTERM) during a run: say so, abort the run's signal (running tasks
 * end their commands on the hosts, no task starts, the recap so far is printed,
 * exit 130). A second one quits at once.
 */
function onInterrupt(reporter: Reporter): { signal: AbortSignal; stopListening: () => void } {
  const controller = new AbortController();
  // every task running on a host listens (forks of them at once): no leak warning at 11 hosts
  setMaxListeners(0, controller.signal);
  const handler = (signalName: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      process.stderr.write(`\nphx-play: ${signalName} again: quitting at once\n`);
      process.exit(130);
    }
    reporter.emit({
      type: 'warning',
      message: `interrupted (${signalName}): ending the running tasks on their hosts; press Ctrl-C again to quit at once`,
    });
    controller.abort(new Interrupted(signalName));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    stopListening: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

/** Like ansible-playbook: a --limit that selects nothing, or a --start-at-task that names no task, stops before anything runs. */
function checkLimitAndStart(o: CliOptions, playbooks: Playbook[], inventory: Inventory): void {
  if (o.limit !== undefined && selectHosts(inventory, o.limit, { baseDir: process.cwd() }).length === 0) {
    throw new PhxError(
      `--limit '${o.limit}' matches no host of the inventory`,
      undefined,
      'check the pattern with --list-hosts',
    );
  }
  if (o.startAtTask !== undefined) {
    const names = playbooks.flatMap((pb) =>
      pb.plays.flatMap((p) => taskNames([...p.pre_tasks, ...p.tasks, ...p.post_tasks])),
    );
    if (!names.includes(o.startAtTask))
      throw new PhxError(
        `--start-at-task: no task is named '${o.startAtTask}'`,
        undefined,
        'list the task names with --list-tasks',
      );
  }
}

function taskNames(nodes: TaskNode[]): string[] {
  return nodes.flatMap((n) => {
    if (n.kind === 'task') return [n.name ?? n.module];
    if (n.kind === 'block') return taskNames([...n.block, ...n.rescue, ...n.always]);
    if (n.kind === 'include_tasks') return n.preloaded ? taskNames(n.preloaded) : [];
    return [];
  });
}

async function makeReporter(o: CliOptions): Promise<Reporter> {
  const [{ JsonReporter, TeeReporter }, { LiveReporter }, { PlainReporter }, { wantsLiveView }, { MaskingReporter }] =
    await Promise.all([
      import('../output/json.js'),
      import('../output/live.js'),
      import('../output/plain.js'),
      import('../output/choose.js'),
      import('../output/masked.js'),
    ]);
  const human = (stream: NodeJS.WriteStream): Reporter =>
    wantsLiveView(stream, process.env)
      ? new LiveReporter(stream, o.verbosity, o.diff)
      : new PlainReporter(stream, o.verbosity, o.diff);
  // vault secrets are masked in every event before any reporter sees it
  if (o.json) return new MaskingReporter(new TeeReporter([new JsonReporter(process.stdout), human(process.stderr)]));
  return new MaskingReporter(human(process.stdout));
}
