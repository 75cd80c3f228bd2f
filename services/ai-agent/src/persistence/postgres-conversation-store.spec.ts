import { nextPageSize } from './postgres-conversation-store.js';

describe('history page sizing', () => {
  it('asks for what the budget left holds at the tokens per message seen, plus a quarter', () => {
    // 32 messages of 40 tokens seen, 2720 left: 68 messages expected, 87 asked.
    expect(nextPageSize(2720, 1280, 32)).toBe(87);
  });

  it('stays within its bounds', () => {
    expect(nextPageSize(10, 1280, 32)).toBe(8);
    expect(nextPageSize(1_000_000, 160, 32)).toBe(256);
    // Nothing seen yet (every row was the open turn): the widest page.
    expect(nextPageSize(4000, 0, 0)).toBe(256);
  });
});
