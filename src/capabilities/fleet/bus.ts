/**
 * Notifications between the instances of a fleet, over Redis pub/sub (one channel per
 * prefix): an admin action on one instance (response cache clear, stats reset, hook config
 * change) is announced, and every other instance repeats it locally. A message carries the
 * sender's instance id; an instance ignores its own. Delivery is at most once: an instance
 * that is disconnected at that moment misses it (it resubscribes when Redis returns).
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../../core/logger.js';
import type { RedisLink } from './link.js';

export type FleetEvent = 'cache_clear' | 'stats_reset' | 'hook_config';

interface Message {
  type: FleetEvent;
  from: string;
  data?: unknown;
}

export class FleetBus {
  private readonly sub: Redis;
  private readonly channel: string;
  private readonly handlers = new Map<FleetEvent, ((data: unknown) => void)[]>();
  /** Messages received from other instances. */
  received = 0;
  published = 0;

  constructor(
    private readonly link: RedisLink,
    prefix: string,
    readonly instance: string,
    private readonly log: Logger,
  ) {
    this.channel = `${prefix}events`;
    this.sub = link.duplicate();
    // nothing queues while disconnected: (re)subscribe each time the connection is ready
    this.sub.on('ready', () => void this.sub.subscribe(this.channel).catch(() => undefined));
    this.sub.on('message', (_channel: string, text: string) => this.deliver(text));
  }

  private deliver(text: string): void {
    let m: Message;
    try {
      m = JSON.parse(text) as Message;
    } catch {
      return;
    }
    if (m.from === this.instance) return;
    this.received++;
    for (const h of this.handlers.get(m.type) ?? []) {
      try {
        h(m.data);
      } catch (err) {
        this.log.warn({ event: m.type, from: m.from, err: (err as Error).message }, 'fleet notification failed here');
      }
    }
  }

  on(type: FleetEvent, handler: (data: unknown) => void): void {
    const list = this.handlers.get(type) ?? [];
    list.push(handler);
    this.handlers.set(type, list);
  }

  /** Tells the other instances; resolves false when Redis could not take it. */
  async publish(type: FleetEvent, data?: unknown): Promise<boolean> {
    const msg: Message = { type, from: this.instance, ...(data === undefined ? {} : { data }) };
    const r = await this.link.run(`publish ${type}`, (c) => c.publish(this.channel, JSON.stringify(msg)));
    if (r === undefined) return false;
    this.published++;
    return true;
  }

  close(): void {
    this.sub.disconnect();
  }
}
