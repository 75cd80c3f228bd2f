/**
 * A small TTL + size-bounded cache of read-only tool results. Keys always start with the clinic
 * id, so a result can never be served to another clinic, and a write invalidates one clinic only.
 */
export class ToolCache {
  private readonly entries = new Map<string, { value: unknown; expires: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  static key(clinicId: string, scope: string, tool: string, args: unknown): string {
    return `${clinicId}|${scope}|${tool}|${stableJson(args)}`;
  }

  get size(): number {
    return this.entries.size;
  }

  async getOrLoad<T>(key: string, load: () => Promise<T>): Promise<T> {
    if (this.ttlMs <= 0 || this.maxEntries <= 0) {
      return load();
    }
    const hit = this.entries.get(key);
    if (hit && hit.expires > this.now()) {
      // Refresh recency: Map keeps insertion order, so re-inserting moves it to the young end.
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.value as T;
    }
    this.entries.delete(key);
    const value = await load();
    this.entries.set(key, { value, expires: this.now() + this.ttlMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) {
        break;
      }
      this.entries.delete(oldest);
    }
    return value;
  }

  invalidateClinic(clinicId: string): void {
    for (const key of this.entries.keys()) {
      if (key.startsWith(`${clinicId}|`)) {
        this.entries.delete(key);
      }
    }
  }
}

function stableJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    return JSON.stringify(value) ?? 'undefined';
  }
  if (Array.isArray(value)) {
    return `[${value.map(stableJson).join(',')}]`;
  }
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${stableJson(obj[k])}`)
    .join(',')}}`;
}
