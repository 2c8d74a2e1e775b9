/** A fixed-capacity ring buffer: O(1) push, newest-first reads, never grows. */
export class Ring<T> {
  private readonly buf: (T | undefined)[];
  private next = 0;
  private count = 0;
  /** Items ever pushed (including those overwritten). */
  pushed = 0;

  constructor(readonly capacity: number) {
    this.buf = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  push(item: T): void {
    this.pushed++;
    if (this.capacity === 0) return;
    this.buf[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  /** Up to `limit` items, newest first. */
  newest(limit: number = this.capacity): T[] {
    const n = Math.max(0, Math.min(limit, this.count));
    const out: T[] = new Array<T>(n);
    for (let i = 0; i < n; i++) {
      const idx = (this.next - 1 - i + this.capacity) % this.capacity;
      out[i] = this.buf[idx] as T;
    }
    return out;
  }
}
