/** Responses API objects kept per instance, in memory, oldest evicted first once `max` is reached. */

export interface StoredResponse {
  body: Record<string, unknown>;
  /** Created with background=true (the only kind that can be cancelled). */
  background: boolean;
  /** The request's input as items (GET …/input_items), oldest first. */
  inputItems?: Record<string, unknown>[];
  /** Pending completion of a background response. */
  timer?: NodeJS.Timeout;
}

export class ResponsesStore {
  private items = new Map<string, StoredResponse>();

  constructor(private readonly max: number) {}

  put(id: string, item: StoredResponse): void {
    this.items.delete(id);
    this.items.set(id, item);
    while (this.items.size > this.max) {
      const oldest = this.items.keys().next().value as string;
      this.delete(oldest);
    }
  }

  get(id: string): StoredResponse | undefined {
    return this.items.get(id);
  }

  delete(id: string): boolean {
    const item = this.items.get(id);
    if (item?.timer) clearTimeout(item.timer);
    return this.items.delete(id);
  }

  clear(): void {
    for (const id of [...this.items.keys()]) this.delete(id);
  }
}
