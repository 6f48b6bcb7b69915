/**
 * The admitted inventory on the admission path: records what was admitted, at most once per record per
 * refresh interval. A bounded in-process memory of what was recorded makes a repeat within the interval
 * cost no call at all; across processes (Lambda instances), the store's conditional write bounds the
 * writes the same way.
 */
import { INVENTORY_DEFAULTS } from '../contracts/settings';
import { setBounded } from '../domain/bounded-map';
import { type AdmittedImage, type InventoryStore, inventoryKey, isDue } from '../domain/inventory';

export interface InventoryRecorderOptions {
  readonly store: Pick<InventoryStore, 'recordAdmitted'>;
  /** A record is written again only when its last-admitted time is older than this. */
  readonly refreshMs?: number;
  /** Records remembered in process (least recently recorded go first). */
  readonly maxRemembered?: number;
}

export interface RecordTally {
  /** Records the store was asked to write (new, or due a refresh as far as this process knows). */
  readonly asked: number;
  /** Records written (the others were fresh in the store already, or failed). */
  readonly written: number;
}

export class InventoryRecorder {
  private readonly store: Pick<InventoryStore, 'recordAdmitted'>;
  private readonly refreshMs: number;
  private readonly maxRemembered: number;
  /** Key → last-admitted time (epoch ms) this process knows of. Map order is the recency order. */
  private readonly remembered = new Map<string, number>();

  constructor(options: InventoryRecorderOptions) {
    this.store = options.store;
    this.refreshMs = options.refreshMs ?? INVENTORY_DEFAULTS.refreshSeconds * 1000;
    this.maxRemembered = options.maxRemembered ?? INVENTORY_DEFAULTS.maxRemembered;
  }

  /** Records in memory now. */
  get size(): number {
    return this.remembered.size;
  }

  /**
   * Records admissions at `at`. Rejects when any write failed (the others still land); a record whose
   * write failed is forgotten, so the next admission tries again.
   */
  async record(admitted: readonly AdmittedImage[], at: Date): Promise<RecordTally> {
    const due = new Map<string, AdmittedImage>();
    for (const item of admitted) {
      const key = inventoryKey(item);
      if (due.has(key) || !isDue(this.remembered.get(key), at, this.refreshMs)) continue;
      due.set(key, item);
      // Remembered before the write lands: a concurrent admission of the same record asks nothing.
      this.remember(key, at.getTime());
    }
    if (due.size === 0) return { asked: 0, written: 0 };
    const outcomes = await Promise.allSettled(
      [...due].map(async ([key, item]) => {
        try {
          const outcome = await this.store.recordAdmitted(item, at, this.refreshMs);
          // Fresh in the store already: remember when it was, so the next write is due on time.
          this.remember(key, Date.parse(outcome.lastAdmittedAt));
          return outcome.written;
        } catch (error) {
          this.remembered.delete(key);
          throw error;
        }
      }),
    );
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) throw failed.reason;
    return {
      asked: due.size,
      written: outcomes.filter((o) => o.status === 'fulfilled' && o.value).length,
    };
  }

  private remember(key: string, lastAdmittedMs: number): void {
    setBounded(this.remembered, key, lastAdmittedMs, this.maxRemembered);
  }
}
