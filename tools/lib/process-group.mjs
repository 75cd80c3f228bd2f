// Child processes of the local stack: prefixed output, ordered shutdown, no orphans.
import { spawn } from 'node:child_process';

export class ProcessGroup {
  children = [];
  stopping = false;

  start(name, cmd, args, { env = {}, quiet = false } = {}) {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const tag = `[${name}]`.padEnd(12);
    const relay = (stream, out) => {
      let buf = '';
      stream.on('data', (b) => {
        buf += b.toString();
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (!quiet) out.write(`${tag} ${line}\n`);
        }
      });
    };
    relay(child.stdout, process.stdout);
    relay(child.stderr, process.stderr);
    const entry = { name, child, exited: new Promise((r) => child.once('exit', (code, sig) => r({ code, sig }))) };
    entry.exited.then(({ code, sig }) => {
      if (!this.stopping) {
        console.error(`${tag} exited unexpectedly (${sig ?? code}); stopping the stack.`);
        void this.stopAll().then(() => process.exit(1));
      }
    });
    this.children.push(entry);
    return entry;
  }

  /** SIGTERM in reverse start order (gateways before agents before NATS), SIGKILL after a bound. */
  async stopAll(timeoutMs = 25000) {
    if (this.stopping) return;
    this.stopping = true;
    for (const entry of [...this.children].reverse()) {
      if (entry.child.exitCode !== null || entry.child.signalCode !== null) continue;
      entry.child.kill('SIGTERM');
      const timer = setTimeout(() => entry.child.kill('SIGKILL'), timeoutMs);
      await entry.exited;
      clearTimeout(timer);
    }
  }
}
