import type { Pseudonymizer } from './pseudonymizer.js';

/** Longest placeholder we ever emit, e.g. "[TELEFONE_9999]"; anything longer is plain text. */
const MAX_PLACEHOLDER = 16;

/**
 * Restores placeholders in a token stream. A chunk ending inside a possible placeholder
 * ("… a [PACI") is held back until the next chunk settles it, so the user never sees
 * a half placeholder and never misses the real value.
 */
export class PlaceholderStreamRestorer {
  private pending = '';

  constructor(private readonly pseudonymizer: Pseudonymizer) {}

  /** Returns the text that can be shown now (possibly empty). */
  push(chunk: string): string {
    const text = this.pending + chunk;
    const open = text.lastIndexOf('[');
    if (open >= 0 && !text.includes(']', open) && text.length - open < MAX_PLACEHOLDER) {
      this.pending = text.slice(open);
      return this.pseudonymizer.restore(text.slice(0, open));
    }
    this.pending = '';
    return this.pseudonymizer.restore(text);
  }

  /** Whatever is still held back, at the end of the stream. */
  flush(): string {
    const rest = this.pending;
    this.pending = '';
    return this.pseudonymizer.restore(rest);
  }
}
