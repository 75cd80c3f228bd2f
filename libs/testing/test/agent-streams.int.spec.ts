import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { agentBus } from '@neonpro/contracts';
import { deletePrefixStreams, NATS_URL, provisionAgentStreams, uniquePrefix } from '@neonpro/testing';

/** The stream names the server holds for one prefix. */
async function streamsOf(nc: NatsConnection, prefix: string): Promise<string[]> {
  const jsm = await jetstreamManager(nc);
  const names: string[] = [];
  for await (const name of jsm.streams.names()) {
    if (name.endsWith(`_${prefix}`)) {
      names.push(name);
    }
  }
  return names.sort();
}

describe('agent streams of a test prefix (real NATS)', () => {
  let nc: NatsConnection;
  const mine = uniquePrefix('streams-mine');
  const other = uniquePrefix('streams-other');

  beforeAll(async () => {
    nc = await connect({ servers: NATS_URL });
  });

  afterAll(async () => {
    // Whatever the test left (it failed half-way): deleted by name, not by the code under test.
    const jsm = await jetstreamManager(nc);
    for (const prefix of [mine, other]) {
      for (const name of [agentBus(prefix).runsStream, agentBus(prefix).eventsStream]) {
        await jsm.streams.delete(name).catch(() => undefined);
      }
    }
    await nc?.close();
  });

  it('deletePrefixStreams removes both streams of its prefix and leaves other prefixes alone', async () => {
    await provisionAgentStreams(nc, agentBus(mine));
    await provisionAgentStreams(nc, agentBus(other));
    expect(await streamsOf(nc, mine)).toEqual([agentBus(mine).eventsStream, agentBus(mine).runsStream].sort());

    await deletePrefixStreams(mine);
    expect(await streamsOf(nc, mine)).toEqual([]);
    expect(await streamsOf(nc, other)).toHaveLength(2);

    // Already gone: not an error.
    await expect(deletePrefixStreams(mine)).resolves.toBeUndefined();
    await deletePrefixStreams(other);
    expect(await streamsOf(nc, other)).toEqual([]);
  });
});
