/**
 * The retained messages the broker keeps, counted so that they stay bounded: aedes keeps every
 * retained message in memory with no limit of its own. An empty retained payload deletes the
 * topic's message ([MQTT-3.3.1-10]).
 */
export class RetainedLimit {
  private readonly topics = new Set<string>();

  constructor(
    private readonly maxMessages: number,
    private readonly maxBytes: number,
  ) {}

  /** Why a retained publish to `topic` is refused, or undefined (and then it is counted). */
  admit(topic: string, payloadBytes: number): 'retained-size' | 'retained-cap' | undefined {
    if (payloadBytes === 0) {
      this.topics.delete(topic);
      return undefined;
    }
    if (payloadBytes > this.maxBytes) return 'retained-size';
    if (!this.topics.has(topic) && this.topics.size >= this.maxMessages) return 'retained-cap';
    this.topics.add(topic);
    return undefined;
  }

  get size(): number {
    return this.topics.size;
  }
}
