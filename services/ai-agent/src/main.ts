import 'reflect-metadata';
import { exitOnConfigError } from '@neonpro/config';
import { startAgent } from './app.js';

async function main(): Promise<void> {
  const agent = await startAgent().catch(exitOnConfigError);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      return;
    }
    stopping = true;
    process.stderr.write(`ai-agent: ${signal} received, draining\n`);
    agent.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`ai-agent: shutdown error: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`ai-agent failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
