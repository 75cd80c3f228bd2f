import type { StructuredToolInterface } from '@langchain/core/tools';
import { must } from '@neonpro/testing';
import { addDays } from './clinic-time.js';
import { ClinicToolbox, newToolRunContext } from './clinic-tools.js';
import { ToolCache } from './tool-cache.js';
import { buildFixture, claimsFor, todaySp } from '../../test/support/clinic-fixtures.js';
import { InMemoryClinicData } from '../../test/support/in-memory-clinic-data.js';

describe('ClinicToolbox: one read of the clinic facts per run', () => {
  const today = todaySp();
  const setup = () => {
    const fixture = buildFixture();
    const port = new InMemoryClinicData([fixture.aurora, fixture.beta]);
    // The cache off (AGENT_TOOL_CACHE_TTL_MS=0): every read reaches the port.
    const toolbox = new ClinicToolbox(port, { cache: new ToolCache(0, 100) });
    const ctx = newToolRunContext({ caller: claimsFor(fixture.ids.aurora), sessionId: 's', userMessage: 'x' });
    const reads = () => port.calls.filter((c) => c === 'clinicInfo').length;
    return { fixture, port, toolbox, ctx, reads };
  };
  const call = async (tools: StructuredToolInterface[], name: string, args: Record<string, unknown>) =>
    JSON.parse(
      String(
        await must(
          tools.find((t) => t.name === name),
          name,
        ).invoke(args),
      ),
    ) as Record<string, unknown>;

  it('uses the facts the run read at its start: no tool reads them again', async () => {
    const { toolbox, ctx, reads, fixture } = setup();
    const info = await toolbox.clinicInfo(ctx.caller);
    expect(reads()).toBe(1);
    const tools = toolbox.tools(ctx, info);
    const listed = await call(tools, 'list_appointments', { date_from: today, date_to: addDays(today, 1) });
    // Four appointments shown, each with its local time (the clinic's zone), by the name of its professional.
    expect((listed.appointments as unknown[]).length).toBe(4);
    await call(tools, 'find_free_slots', { professional: 'Lima', date: addDays(today, 1) });
    expect((await call(tools, 'clinic_info', {})).name).toBe(fixture.aurora.name);
    expect(reads()).toBe(1);
  });

  it('without them, reads them once, on the first tool that needs them', async () => {
    const { toolbox, ctx, reads } = setup();
    const tools = toolbox.tools(ctx);
    expect(reads()).toBe(0);
    await call(tools, 'list_appointments', { date_from: today, date_to: addDays(today, 1) });
    await call(tools, 'list_appointments', { date_from: today, professional: 'Costa' });
    expect(reads()).toBe(1);
    // Another run reads its own (the cache is off).
    await call(toolbox.tools({ ...ctx, patientNames: new Set() }), 'clinic_info', {});
    expect(reads()).toBe(2);
  });

  it('a failed read is not kept: the next tool call of the run reads again', async () => {
    const { toolbox, ctx, port, reads } = setup();
    const real = port.clinicInfo.bind(port);
    let failures = 1;
    port.clinicInfo = (caller) => {
      if (failures-- > 0) {
        port.calls.push('clinicInfo');
        return Promise.reject(new Error('database unavailable'));
      }
      return real(caller);
    };
    const tools = toolbox.tools(ctx);
    await expect(call(tools, 'clinic_info', {})).rejects.toThrow('database unavailable');
    expect((await call(tools, 'clinic_info', {})).timezone).toBe('America/Sao_Paulo');
    expect(reads()).toBe(2);
  });
});
