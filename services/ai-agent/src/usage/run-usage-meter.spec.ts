import { loadConfig, agentConfigSchema } from '@neonpro/config';
import { modelName, RunUsageMeter } from './run-usage-meter.js';

const config = { ...loadConfig('ai-agent', agentConfigSchema, {}), instanceId: 'test' };

describe('RunUsageMeter', () => {
  it('sums every model call and tool call of a run', () => {
    const meter = new RunUsageMeter('5f0c3a4e-8f55-4d5c-9a51-111111111111', config);
    expect(meter.billable).toBe(false);
    meter.addModelCall({ input: 100, output: 20, reported: true });
    meter.addToolCall();
    meter.addModelCall({ input: 150, output: 30, reported: true });
    const u = meter.finish('openai', 'ok');
    expect(meter.billable).toBe(true);
    expect(u).toMatchObject({
      session_id: '5f0c3a4e-8f55-4d5c-9a51-111111111111',
      provider: 'openai',
      model: config.OPENAI_MODEL,
      input_tokens: 250,
      output_tokens: 50,
      tokens_reported: true,
      tool_calls: 1,
      outcome: 'ok',
    });
    expect(u.duration_ms).toBeGreaterThanOrEqual(0);
  });

  it('marks the counts as estimated when any call had no provider numbers', () => {
    const meter = new RunUsageMeter('5f0c3a4e-8f55-4d5c-9a51-111111111111', config);
    meter.addModelCall({ input: 10, output: 2, reported: true });
    meter.addModelCall({ input: 10, output: 2, reported: false });
    expect(meter.finish('local', 'step_limit')).toMatchObject({ tokens_reported: false, model: 'local-clinic-model' });
  });

  it('names the configured model of each provider', () => {
    expect(modelName('anthropic', config)).toBe(config.ANTHROPIC_MODEL);
    expect(modelName('ollama', config)).toBe(config.OLLAMA_MODEL);
  });
});
