/** A value rebuilt at most once per `ttlMs` (the `/stats?cached=1` snapshot). */
export class Snapshot<T> {
  private value: { at: number; data: T } | null = null;

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  async get(build: () => Promise<T>): Promise<T> {
    const t = this.now();
    if (this.value && t - this.value.at < this.ttlMs) return this.value.data;
    const data = await build();
    this.value = { at: t, data };
    return data;
  }

  invalidate(): void {
    this.value = null;
  }
}
