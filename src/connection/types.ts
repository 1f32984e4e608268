// What the executor and modules know of a host: run a command line, move files.
// Local and SSH connections implement this; nothing above it knows which it has.

export interface Become {
  user: string; // default 'root'
  password?: string; // goes on stdin to `sudo -S`, never on a command line
}

export interface ExecOptions {
  stdin?: string | Buffer;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface ExecResult {
  rc: number;
  stdout: string;
  stderr: string;
  /** set when the process died from a signal */
  signal?: string;
}

export interface Connection {
  readonly kind: 'local' | 'ssh';
  /** Opens the connection once; later calls reuse it. Throws UnreachableError. */
  connect(): Promise<void>;
  /** Runs one sh command line (build it with buildCommand). Throws UnreachableError if the link dies. */
  exec(command: string, opts?: ExecOptions): Promise<ExecResult>;
  /** Writes a file atomically enough for config files (temp + rename), as the connecting user. */
  putFile(path: string, data: Buffer, opts?: { mode?: number }): Promise<void>;
  /** Reads a whole file as the connecting user; null when it does not exist. */
  getFile(path: string): Promise<Buffer | null>;
  close(): Promise<void>;
}
