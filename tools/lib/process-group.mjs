// Child processes of the local stack: prefixed output, restarts with backoff, ordered shutdown, no orphans.
import { spawn } from 'node:child_process';

const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 30000;
// A process that stayed up this long is healthy again: its next crash restarts after the minimum delay.
const STABLE_AFTER_MS = 30000;

export class ProcessGroup {
  children = [];
  stopping = false;

  /**
   * Starts a supervised process. Like a pod's `restartPolicy: Always`, a process that exits while the
   * group is not stopping is restarted after an exponential backoff (1 s doubling to 30 s), and the
   * rest of the stack keeps running. `restart: false` stops the whole stack instead.
   */
  start(name, cmd, args, { env = {}, quiet = false, spawnOptions = {}, restart = true, stopSignal = 'SIGTERM' } = {}) {
    const entry = {
      name,
      tag: `[${name}]`.padEnd(12),
      ...{ cmd, args, env, quiet, spawnOptions, restart, stopSignal },
      restarts: 0,
    };
    this.children.push(entry);
    this.#spawn(entry);
    return entry;
  }

  #spawn(entry) {
    const child = spawn(entry.cmd, entry.args, {
      ...entry.spawnOptions,
      env: { ...process.env, ...entry.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    entry.child = child;
    entry.startedAt = Date.now();
    entry.exited = new Promise((r) => child.once('exit', (code, sig) => r({ code, sig })));
    const relay = (stream, out) => {
      let buf = '';
      stream.on('data', (b) => {
        buf += b.toString();
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (!entry.quiet) {
            out.write(`${entry.tag} ${line}\n`);
          }
        }
      });
    };
    relay(child.stdout, process.stdout);
    relay(child.stderr, process.stderr);
    child.once('error', (err) => console.error(`${entry.tag} could not start: ${err.message}`));
    console.log(`${entry.tag} started (pid ${child.pid})`);
    void entry.exited.then(({ code, sig }) => {
      if (this.stopping) {
        return;
      }
      if (!entry.restart) {
        console.error(`${entry.tag} exited unexpectedly (${sig ?? code}); stopping the stack.`);
        void this.stopAll().then(() => process.exit(1));
        return;
      }
      if (Date.now() - entry.startedAt >= STABLE_AFTER_MS) {
        entry.restarts = 0;
      }
      const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** entry.restarts);
      entry.restarts += 1;
      console.error(`${entry.tag} exited unexpectedly (${sig ?? code}); restarting in ${delay / 1000} s`);
      entry.timer = setTimeout(() => {
        entry.timer = undefined;
        if (!this.stopping) {
          this.#spawn(entry);
        }
      }, delay);
    });
  }

  /** SIGTERM in reverse start order (gateways before agents before NATS and Postgres), SIGKILL after a bound. */
  async stopAll(timeoutMs = 25000) {
    if (this.stopping) {
      return;
    }
    this.stopping = true;
    for (const entry of this.children) {
      clearTimeout(entry.timer);
    }
    for (const entry of [...this.children].reverse()) {
      const child = entry.child;
      if (!child || child.exitCode !== null || child.signalCode !== null) {
        continue;
      }
      child.kill(entry.stopSignal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await entry.exited;
      clearTimeout(timer);
    }
  }
}
