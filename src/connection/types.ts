// What the executor and modules know of a host: run a command line, move files.
// Local, SSH and pct (a container through its hypervisor's connection) implement
// this; nothing above it knows which it has.

export interface Become {
  user: string; // default 'root'
  password?: string; // answers sudo's prompt (see BecomeExchange), never on a command line
}

/**
 * What a connection needs to run a become command (made by buildCommand, passed
 * to exec as is): sudo prints `prompt` on stderr when it wants the password,
 * the command prints `marker` as its first stdout line once sudo has run it.
 * Without a password sudo runs with -n and never asks.
 */
export interface BecomeExchange {
  prompt: string;
  marker: string;
  password?: string;
}

export interface ExecOptions {
  stdin?: string | Buffer;
  /** the command line was built with become: answer sudo, then send stdin */
  become?: BecomeExchange;
  /** controller-side limit; buildCommand's timeoutMs also makes the host kill the command */
  timeoutMs?: number;
  signal?: AbortSignal;
  /**
   * the command is phx-play's own script (literal command words, written by
   * phx-play, never a user's text): a remote shell may run it without a subshell
   * when it leaves nothing behind (src/connection/same-shell.ts)
   */
  ownScript?: boolean;
  /** with ownScript: every name the script assigns, when its maker knows them (the script is then not read) */
  ownLocals?: readonly string[];
}

export interface ExecResult {
  rc: number;
  stdout: string;
  stderr: string;
  /** set when the process died from a signal */
  signal?: string;
}

export interface Connection {
  readonly kind: 'local' | 'ssh' | 'pct';
  /** Opens the connection once; later calls reuse it. Throws UnreachableError. */
  connect(): Promise<void>;
  /**
   * Runs one sh command line. Build it with buildCommand and pass the built
   * stdin and become on in opts (become commands depend on it). Throws
   * UnreachableError if the link dies, BecomeError if sudo refuses.
   */
  exec(command: string, opts?: ExecOptions): Promise<ExecResult>;
  /** Writes a file atomically enough for config files (temp + rename), as the connecting user. */
  putFile(path: string, data: Buffer, opts?: { mode?: number }): Promise<void>;
  /** Reads a whole file as the connecting user; null when it does not exist. */
  getFile(path: string): Promise<Buffer | null>;
  close(): Promise<void>;
}
