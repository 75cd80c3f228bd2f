import type { MsgHdrs } from '@nats-io/transport-node';
import { BaseRpcContext } from '@nestjs/microservices';

/** What a run handler learns about its delivery, besides the decoded request. */
export class JetStreamRunContext extends BaseRpcContext<[MsgHdrs | undefined, number, string]> {
  getHeaders(): MsgHdrs | undefined {
    return this.args[0];
  }

  header(name: string): string | undefined {
    return this.args[0]?.get(name) || undefined;
  }

  /** 1 on the first delivery; more after a crash or an ack timeout. */
  getDeliveryCount(): number {
    return this.args[1];
  }

  getSubject(): string {
    return this.args[2];
  }
}
