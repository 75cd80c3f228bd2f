/**
 * Disconnects sockets when their access token expires, with one shared timer instead of a
 * setTimeout (and its closure) per socket: sockets are kept in one-second buckets by expiry and
 * a single interval, running only while something is tracked, expires each due bucket.
 */
export class SocketExpiry<S extends object> {
  private readonly buckets = new Map<number, Set<S>>();
  private readonly bucketOf = new WeakMap<S, number>();
  private timer?: NodeJS.Timeout;
  private size = 0;

  constructor(
    private readonly onExpired: (socket: S) => void,
    private readonly now: () => number = Date.now,
    private readonly tickMs = 1000,
  ) {}

  /** Tracks `socket` until `expiresAtMs` (a past time expires it on the next tick). */
  add(socket: S, expiresAtMs: number): void {
    this.delete(socket);
    const key = Math.ceil(expiresAtMs / this.tickMs);
    let bucket = this.buckets.get(key);
    if (!bucket) {
      this.buckets.set(key, (bucket = new Set()));
    }
    bucket.add(socket);
    this.bucketOf.set(socket, key);
    this.size++;
    this.timer ??= setInterval(() => this.tick(), this.tickMs).unref();
  }

  delete(socket: S): void {
    const key = this.bucketOf.get(socket);
    if (key === undefined) {
      return;
    }
    this.bucketOf.delete(socket);
    const bucket = this.buckets.get(key);
    if (bucket?.delete(socket)) {
      this.size--;
    }
    if (bucket?.size === 0) {
      this.buckets.delete(key);
    }
    if (this.size === 0) {
      this.stop();
    }
  }

  get tracked(): number {
    return this.size;
  }

  /** Expires every bucket that is due. Buckets are few (one per second of expiry), so a scan is cheap. */
  tick(): void {
    const due = Math.floor(this.now() / this.tickMs);
    for (const [key, bucket] of this.buckets) {
      if (key > due) {
        continue;
      }
      this.buckets.delete(key);
      for (const socket of bucket) {
        this.bucketOf.delete(socket);
        this.size--;
        this.onExpired(socket);
      }
    }
    if (this.size === 0) {
      this.stop();
    }
  }

  stop(): void {
    if (this.timer) {
      clearInterval(this.timer);
    }
    this.timer = undefined;
  }
}
