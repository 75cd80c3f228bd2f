import { Injectable } from '@nestjs/common';
import { GatewayMetrics } from '../metrics/gateway-metrics.service.js';

/** Counts relayed agent streams so SIGTERM can wait for them (within a bound). */
@Injectable()
export class StreamTracker {
  private open = 0;
  private waiters: (() => void)[] = [];

  constructor(private readonly metrics: GatewayMetrics) {}

  begin(): () => void {
    this.open++;
    this.metrics.openStreams.inc();
    let done = false;
    return () => {
      if (done) {
        return;
      }
      done = true;
      this.open--;
      this.metrics.openStreams.dec();
      if (this.open === 0) {
        for (const w of this.waiters.splice(0)) {
          w();
        }
      }
    };
  }

  get size(): number {
    return this.open;
  }

  async idle(timeoutMs: number): Promise<boolean> {
    if (this.open === 0) {
      return true;
    }
    return new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(this.open === 0), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }
}
