interface Pending<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit: items submitted while a write is in flight (or, with `defer`, within the same event-loop
 * turn) are written together by one `write` call, so many concurrent requests share one commit (one fsync)
 * while each still waits for its own item to be durable. One write runs at a time, which also keeps a
 * writer's hash chain in order.
 */
export class GroupCommitter<T, R> {
  private queue: Pending<T, R>[] = [];
  private writing = false;
  private scheduled = false;
  private idle: (() => void)[] = [];

  constructor(
    private readonly write: (batch: T[]) => Promise<R[]>,
    private readonly options: { defer?: boolean; maxBatch?: number } = {},
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves once every item submitted so far has been written (or has failed): the store may then close. */
  drain(): Promise<void> {
    if (!this.writing && !this.scheduled && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private schedule(): void {
    if (this.writing || this.scheduled) return;
    if (this.queue.length === 0) {
      this.idle.splice(0).forEach((resolve) => resolve());
      return;
    }
    if (!this.options.defer) {
      void this.flush();
      return;
    }
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.writing || this.queue.length === 0) return;
    this.writing = true;
    const batch = this.queue.splice(0, this.options.maxBatch ?? 500);
    try {
      const results = await this.write(batch.map((p) => p.item));
      batch.forEach((p, i) => p.resolve(results[i]));
    } catch (err) {
      batch.forEach((p) => p.reject(err));
    } finally {
      this.writing = false;
      this.schedule();
    }
  }
}
