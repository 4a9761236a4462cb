// At most `perAccount` searches of one account run at once in this process; the others wait their
// turn (their deadline still counts): a burst of heavy queries from one account queues behind
// itself rather than taking every core from the other accounts' searches.
export class AccountLimiter {
  private readonly running = new Map<string, number>();
  private readonly waiting = new Map<string, Array<() => void>>();

  constructor(private readonly perAccount = 2) {}

  async run<T>(accountId: string, fn: () => Promise<T>): Promise<T> {
    if ((this.running.get(accountId) ?? 0) >= this.perAccount) {
      await new Promise<void>((resolve) => this.waiting.set(accountId, [...(this.waiting.get(accountId) ?? []), resolve]));
    }
    this.running.set(accountId, (this.running.get(accountId) ?? 0) + 1);
    try {
      return await fn();
    } finally {
      const left = (this.running.get(accountId) ?? 1) - 1;
      if (left === 0) this.running.delete(accountId);
      else this.running.set(accountId, left);
      const queue = this.waiting.get(accountId);
      const next = queue?.shift();
      if (queue && queue.length === 0) this.waiting.delete(accountId);
      next?.();
    }
  }
}
