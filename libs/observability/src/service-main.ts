/** What a service's start returns: something to drain and close on shutdown. */
export interface Closable {
  close(): Promise<void>;
}

/** The part of `process` a service's main uses (a stand-in in the unit test). */
export interface MainProcess {
  once(signal: 'SIGTERM' | 'SIGINT', listener: () => void): unknown;
  stderr: { write(text: string): unknown };
  exit(code: number): void;
}

/**
 * A service's main: starts it; on the first SIGTERM or SIGINT drains and closes it, then exits 0
 * (1 when closing fails); exits 1 when it cannot start. Messages go to stderr because the logger
 * may not exist yet, or be closed already.
 */
export function runService(name: string, start: () => Promise<Closable>, proc: MainProcess = process): Promise<void> {
  return start().then(
    (service) => {
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) {
          return;
        }
        stopping = true;
        proc.stderr.write(`${name}: ${signal} received, draining\n`);
        service.close().then(
          () => proc.exit(0),
          (err: unknown) => {
            proc.stderr.write(`${name}: shutdown error: ${String(err)}\n`);
            proc.exit(1);
          },
        );
      };
      proc.once('SIGTERM', () => stop('SIGTERM'));
      proc.once('SIGINT', () => stop('SIGINT'));
    },
    (err: unknown) => {
      proc.stderr.write(`${name} failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
      proc.exit(1);
    },
  );
}
