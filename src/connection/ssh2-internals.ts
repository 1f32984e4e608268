// The one place that reaches into ssh2's internals. Written for ssh2 1.17.0
// (lib/Channel.js: `outgoing.{id,state}` and `_client._protocol.signal()`;
// lib/client.js: the protocol's `_handlers.GLOBAL_REQUEST`);
// test/ssh2-internals.test.ts fails when another ssh2 version is installed, so
// whoever upgrades ssh2 checks this file first.
import type { Client, ClientChannel } from 'ssh2';

/** the ssh2 version whose internals sendKill was written against */
export const SSH2_VERSION_RELIED_ON = '1.17.0';

/** What sendKill reads from a channel: private fields of ssh2 1.17.0's Channel. */
interface ChannelInternals {
  outgoing?: { id?: number; state?: string };
  _client?: { _protocol?: { signal?: (id: number, sig: string) => void } };
}

/**
 * Sends SIGKILL to the remote command (OpenSSH killpg()s the session). ssh2's
 * channel.signal() refuses once stdin is closed, which it always is here, so
 * this goes to the protocol object the channel itself would use.
 */
export function sendKill(ch: ClientChannel): void {
  const internal = ch as unknown as ChannelInternals;
  const id = internal.outgoing?.id;
  const proto = internal._client?._protocol;
  if (
    id === undefined ||
    !['open', 'eof'].includes(internal.outgoing?.state ?? '') ||
    typeof proto?.signal !== 'function'
  )
    return;
  try {
    proto.signal(id, 'KILL');
  } catch {
    // best effort: the channel is closed next anyway
  }
}

/**
 * Closes a client's socket whatever its state. ssh2's destroy() does nothing once
 * end() was called (the socket is no longer writable), so a peer that never closes
 * its side (a host that accepts TCP and never speaks SSH) kept the process alive.
 */
export function destroySocket(client: Client): void {
  (client as unknown as { _sock?: { destroy(): void } })._sock?.destroy();
}

/** What ignoreHostKeyAnnouncements reaches: the message handlers ssh2 1.17.0's Client gives its Protocol. */
type GlobalRequestHandler = (
  proto: { requestSuccess(): void },
  name: string,
  wantReply: boolean,
  data: unknown,
) => void;
interface ClientInternals {
  _protocol?: { _handlers?: { GLOBAL_REQUEST?: GlobalRequestHandler } };
}

/**
 * After auth, OpenSSH's sshd announces all its host keys (hostkeys-00@openssh.com, for
 * UpdateHostKeys), and ssh2's Client answers every announcement by asking the server to
 * prove it holds each key (hostkeys-prove-00): one signature per host key on the host and
 * one verification per key here, per connection, only for Client's 'hostkeys' event, which
 * phx-play does not use (the host key was checked against known_hosts in the handshake).
 * Here the announcement is taken and nothing is asked back. Call right after connect()
 * (which creates the protocol); does nothing when ssh2 is not shaped as expected.
 */
export function ignoreHostKeyAnnouncements(client: Client): void {
  const handlers = (client as unknown as ClientInternals)._protocol?._handlers;
  const global = handlers?.GLOBAL_REQUEST;
  if (!handlers || typeof global !== 'function') return;
  handlers.GLOBAL_REQUEST = (proto, name, wantReply, data) => {
    if (name !== 'hostkeys-00@openssh.com') return global(proto, name, wantReply, data);
    if (wantReply) proto.requestSuccess(); // as ssh2 itself answers it
  };
}
