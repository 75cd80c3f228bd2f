// A real built ai-agent whose model is a CPU-bound stand-in (a fixed slice of busy CPU per
// answer instead of an LLM), for the scale-out benchmark. Bench-only: nothing here ships.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { AIMessage } from '@langchain/core/messages';
import { ROOT } from '../lib/procs.mjs';

const CPU_MS = Number(process.env.BENCH_MODEL_CPU_MS ?? 20);
const ANSWER = 'Resposta de referência do modelo de benchmark.';

class CpuBoundModel extends BaseChatModel {
  _llmType() {
    return 'cpu-bound-stand-in';
  }
  bindTools() {
    return this;
  }
  async _generate() {
    const until = performance.now() + CPU_MS;
    let x = 0;
    while (performance.now() < until) {
      x = (x * 1103515245 + 12345) % 2147483648;
    }
    return { generations: [{ text: ANSWER, message: new AIMessage(ANSWER), generationInfo: { x } }] };
  }
}

const { startAgent } = await import(pathToFileURL(join(ROOT, 'dist/services/ai-agent/src/app.js')).href);
const agent = await startAgent(process.env, { modelFactory: () => new CpuBoundModel({}) });
const stop = () => void agent.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
