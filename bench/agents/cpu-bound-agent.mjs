// A real built ai-agent whose model is a CPU-bound stand-in (a fixed amount of CPU work per
// answer instead of an LLM), for the scale-out benchmark. Bench-only: nothing here ships.
//
// The slice is CPU time of the agent's main thread, not wall time: a real model does a fixed
// amount of work per answer, and on a shared machine a wall-clock spin would finish "on time"
// while descheduled, i.e. cost less CPU than it claims (it measured 14 ms of CPU per 20 ms answer
// at load average 18). The scenario reports the model's and the platform's CPU per turn side by side.
import { join } from 'node:path';
import { setImmediate } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { AIMessage } from '@langchain/core/messages';
import { ROOT } from '../lib/procs.mjs';

const CPU_MS = Number(process.env.BENCH_MODEL_CPU_MS ?? 20);
const SLICE_MS = 5;
const ANSWER = 'Resposta de referência do modelo de benchmark.';
/** Main-thread CPU in ms (Node ≥ 23.9), else the process' (GC threads included). */
const cpuNow = () => {
  const u = process.threadCpuUsage ? process.threadCpuUsage() : process.cpuUsage();
  return (u.user + u.system) / 1000;
};

class CpuBoundModel extends BaseChatModel {
  _llmType() {
    return 'cpu-bound-stand-in';
  }
  bindTools() {
    return this;
  }
  async _generate() {
    // In slices, yielding to the event loop between them: like a model runtime off the main
    // loop, it must not starve presence replies, in-progress acks and pulls. One long block
    // per answer (8 answers back to back are 800 ms) made presence time out: the gateway then
    // answered 503 agent_unavailable instead of measuring throughput.
    let left = CPU_MS;
    let x = 0;
    while (left > 0) {
      const start = cpuNow();
      const until = start + Math.min(SLICE_MS, left);
      // The CPU clock is a system call: read it every 1000 steps, not on each.
      while (cpuNow() < until) {
        for (let i = 0; i < 1000; i++) {
          x = (x * 1103515245 + 12345) % 2147483648;
        }
      }
      left -= cpuNow() - start;
      await setImmediate();
    }
    return { generations: [{ text: ANSWER, message: new AIMessage(ANSWER), generationInfo: { x } }] };
  }
}

const { startAgent } = await import(pathToFileURL(join(ROOT, 'dist/services/ai-agent/src/app.js')).href);
const agent = await startAgent(process.env, { modelFactory: () => new CpuBoundModel({}) });
const stop = () => void agent.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
