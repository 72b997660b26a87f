/**
 * A batch of per-candidate fields stored column by column, the shape every stage of
 * segment-everything passes along (amg.py's MaskData). Keeping one container means a filter
 * is written once as a keep-list and can never leave two fields out of step.
 */
export class MaskData<R extends object> {
  private columns: { [K in keyof R]: R[K][] };
  private count = 0;

  /** `keys` fixes the columns up front so `cat` and `filter` touch every field. */
  constructor(private readonly keys: readonly (keyof R)[]) {
    this.columns = {} as { [K in keyof R]: R[K][] };
    for (const k of keys) this.columns[k] = [];
  }

  /** Number of candidates held. */
  get length(): number {
    return this.count;
  }

  /** Append one candidate. */
  push(row: R): void {
    for (const k of this.keys) this.columns[k].push(row[k]);
    this.count++;
  }

  /** One column, in candidate order (read-only view: replace a column with `set`). */
  get<K extends keyof R>(key: K): readonly R[K][] {
    return this.columns[key];
  }

  /** Replace one column; its length must match, so a stage cannot silently misalign fields. */
  set<K extends keyof R>(key: K, values: R[K][]): void {
    if (values.length !== this.count) {
      throw new Error(`MaskData.set(${String(key)}): ${values.length} values for ${this.count} candidates`);
    }
    this.columns[key] = values;
  }

  /** Candidate `i` as an object (a copy; edits do not write back). */
  row(i: number): R {
    const out = {} as R;
    for (const k of this.keys) out[k] = this.columns[k][i];
    return out;
  }

  /**
   * Keep a subset. Booleans keep in place (one per candidate); indices keep those candidates
   * in the order given, which is how NMS results carry their score order downstream. An
   * empty list keeps nothing either way.
   */
  filter(keep: readonly boolean[] | readonly number[]): void {
    if (keep.length > 0 && typeof keep[0] === 'boolean') {
      if (keep.length !== this.count) throw new Error(`MaskData.filter: ${keep.length} flags for ${this.count} candidates`);
      const flags = keep as readonly boolean[];
      for (const k of this.keys) this.columns[k] = this.columns[k].filter((_, i) => flags[i]);
      this.count = flags.reduce((n, f) => (f ? n + 1 : n), 0);
      return;
    }
    const idx = keep as readonly number[];
    for (const i of idx) {
      if (!Number.isInteger(i) || i < 0 || i >= this.count) throw new Error(`MaskData.filter: index ${i} out of range 0..${this.count - 1}`);
    }
    for (const k of this.keys) {
      const col = this.columns[k];
      this.columns[k] = idx.map((i) => col[i]);
    }
    this.count = idx.length;
  }

  /** Append every candidate of `other` (same columns) after this batch's own. */
  cat(other: MaskData<R>): void {
    for (const k of this.keys) {
      const col = this.columns[k];
      for (const v of other.get(k)) col.push(v);
    }
    this.count += other.length;
  }
}
