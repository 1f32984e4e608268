// K plain OpenSSH sshd hosts on 127.0.0.1 for the bench: one client key, one
// known_hosts file, and one INI inventory that phx-play and ansible-playbook
// both read. All hosts share this machine's filesystem, so the workload puts
// each host's files under its own directory (bench_base/<inventory_hostname>).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateKeyPair, startSshd, type SshdHandle } from '../lab/sshd.js';

export interface BenchHosts {
  names: string[];
  handles: SshdHandle[];
  inventoryFile: string;
  knownHostsFile: string;
  privateKeyFile: string;
  stop(): Promise<void>;
}

export interface StartHostsOptions {
  dir: string;
  count: number;
  /** extra argv in front of sshd, e.g. to raise its log level for channel counting */
  launchPrefix?: string[];
}

/** Starts `count` sshd hosts named h01…hNN (a few at a time: sshd start-up is CPU bound on 2 cores). */
export async function startBenchHosts(o: StartHostsOptions): Promise<BenchHosts> {
  const key = await generateKeyPair(join(o.dir, 'id_ed25519'));
  const names = Array.from({ length: o.count }, (_, i) => `h${String(i + 1).padStart(2, '0')}`);
  const handles: SshdHandle[] = [];
  const stop = async () => {
    await Promise.all(handles.map((h) => h.stop()));
  };
  try {
    for (let i = 0; i < names.length; i += 8) {
      const batch = names.slice(i, i + 8);
      handles.push(
        ...(await Promise.all(
          batch.map((name) =>
            startSshd({
              dir: join(o.dir, 'sshd', name),
              authorizedKeys: [key.publicKey],
              launchPrefix: o.launchPrefix,
            }),
          ),
        )),
      );
    }
  } catch (e) {
    await stop();
    throw e;
  }
  const knownHostsFile = join(o.dir, 'known_hosts');
  await writeFile(knownHostsFile, handles.map((h) => h.knownHostsLine()).join('\n') + '\n');
  const inventoryFile = join(o.dir, 'hosts.ini');
  const lines = ['[bench]'];
  names.forEach((name, i) =>
    lines.push(
      `${name} ansible_host=127.0.0.1 ansible_port=${handles[i].port} ansible_user=root ansible_ssh_private_key_file=${key.privatePath} ansible_ssh_known_hosts_file=${knownHostsFile}`,
    ),
  );
  await writeFile(inventoryFile, lines.join('\n') + '\n');
  return { names, handles, inventoryFile, knownHostsFile, privateKeyFile: key.privatePath, stop };
}
