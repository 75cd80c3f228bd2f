import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { containerHeapFlags, serviceNodeFlags } from '../../../tools/lib/node-flags.mjs';
import { waitFor } from './wait.js';

export const REPO_ROOT = join(import.meta.dirname, '..', '..', '..');

export const BUILT_ENTRYPOINTS = {
  gateway: join(REPO_ROOT, 'dist/services/gateway/src/main.js'),
  'ai-agent': join(REPO_ROOT, 'dist/services/ai-agent/src/main.js'),
} as const;

export type ServiceName = keyof typeof BUILT_ENTRYPOINTS;

/** A built service running as a child process, with its output captured for assertions. */
export class ServiceProcess {
  readonly output: string[] = [];
  private exitCode: number | null | undefined;
  private readonly exited: Promise<number | null>;

  constructor(
    readonly name: ServiceName,
    readonly port: number,
    readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (b: Buffer) => this.output.push(b.toString()));
    child.stderr?.on('data', (b: Buffer) => this.output.push(b.toString()));
    this.exited = once(child, 'exit').then(([code]) => (this.exitCode = code as number | null));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** JSON log lines printed so far. */
  logs(): Record<string, unknown>[] {
    return this.output
      .join('')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  async waitReady(timeoutMs = 20000): Promise<void> {
    await waitFor(
      async () => {
        if (!this.running) {
          throw new Error(`${this.name} exited early:\n${this.output.join('')}`);
        }
        const r = await fetch(`${this.url}/health/ready`);
        return r.status === 200;
      },
      `${this.name} on :${this.port} to be ready`,
      timeoutMs,
    );
  }

  /** Sends a signal and resolves with the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30000): Promise<number | null> {
    if (!this.running) {
      return this.exitCode ?? null;
    }
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

/** Starts a built service (run `npm run build` first; `npm test` does). */
export function spawnService(
  name: ServiceName,
  port: number,
  env: Record<string, string>,
  /**
   * Another entry point (e.g. a test harness around the built app), extra node flags, and the
   * memory limit (MiB) of the pod to size the heap for, as Node does inside that container.
   */
  options: { entry?: string; nodeArgs?: string[]; memoryLimitMiB?: number } = {},
): ServiceProcess {
  const built = BUILT_ENTRYPOINTS[name];
  if (!existsSync(built)) {
    throw new Error(`${built} is missing: run npm run build first`);
  }
  // The image's node flags (heap sizing), so tests and drills measure the heap production runs.
  const child = spawn(
    process.execPath,
    [
      ...serviceNodeFlags(name),
      ...(options.memoryLimitMiB ? containerHeapFlags(options.memoryLimitMiB) : []),
      ...(options.nodeArgs ?? []),
      options.entry ?? built,
    ],
    {
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...env, PORT: String(port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return new ServiceProcess(name, port, child);
}
