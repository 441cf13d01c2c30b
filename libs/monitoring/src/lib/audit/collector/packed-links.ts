/** A hash as held: a flag byte, then the SHA-256's 32 bytes (flag 0), or the number of a text that is not one (flag 1). */
const VALUE_BYTES = 33;
const ID_BYTES = 16;
const HEX_DIGEST = /^[0-9a-f]{64}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Which of a link's two hashes: the one it links to, or its own. */
export const PREV = 0;
export const HASH = 1;
type Field = typeof PREV | typeof HASH;

/**
 * The links of one writer's rows (id, place in the collector's order, previous hash, hash), packed into buffers
 * outside the JavaScript heap: 86 bytes a row, where an object a row with its strings took about 280 in the
 * heap. A hash is kept as its 32 bytes and an id (a UUID) as its 16; a value that is not of that form (a row whose
 * stored bytes were edited can hold anything) is kept as text, so every value reads back exactly as it was given.
 */
export class PackedLinks {
  size = 0;
  /** Each link's previous hash, then its hash (VALUE_BYTES each). */
  values: Buffer;
  private ids: Buffer;
  private orders: Uint32Array;
  private readonly otherIds = new Map<number, string>();
  private readonly texts: string[] = [];
  private readonly textNumbers = new Map<string, number>();

  /** `capacity`: the number of links expected (it grows past it, by doubling). */
  constructor(private capacity = 1024) {
    this.capacity = Math.max(1, capacity);
    this.values = Buffer.alloc(this.capacity * 2 * VALUE_BYTES);
    this.ids = Buffer.alloc(this.capacity * ID_BYTES);
    this.orders = new Uint32Array(this.capacity);
  }

  /** Adds a link; answers its index. */
  push(id: string, order: number, prev: string, hash: string): number {
    if (this.size === this.capacity) this.grow();
    const i = this.size;
    this.size += 1;
    this.orders[i] = order;
    this.writeValue(this.values, this.offset(i, PREV), prev);
    this.writeValue(this.values, this.offset(i, HASH), hash);
    if (UUID.test(id)) this.ids.write(id.replace(/-/g, ''), i * ID_BYTES, ID_BYTES, 'hex');
    else this.otherIds.set(i, id);
    return i;
  }

  /** Where link `i`'s previous hash or hash starts in `values`. */
  offset(i: number, field: Field): number {
    return (i * 2 + field) * VALUE_BYTES;
  }

  orderOf(i: number): number {
    return this.orders[i];
  }

  idOf(i: number): string {
    const other = this.otherIds.get(i);
    if (other !== undefined) return other;
    const hex = this.ids.toString('hex', i * ID_BYTES, (i + 1) * ID_BYTES);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  prevOf(i: number): string {
    return this.valueAt(this.offset(i, PREV));
  }

  hashOf(i: number): string {
    return this.valueAt(this.offset(i, HASH));
  }

  /** `value` in the form `values` holds it (for a lookup of a hash no link carries, such as genesis). */
  pack(value: string): Buffer {
    const packed = Buffer.alloc(VALUE_BYTES);
    this.writeValue(packed, 0, value);
    return packed;
  }

  private valueAt(at: number): string {
    return this.values[at] === 0 ? this.values.toString('hex', at + 1, at + VALUE_BYTES) : this.texts[this.values.readUInt32LE(at + 1)];
  }

  private writeValue(target: Buffer, at: number, value: string): void {
    if (HEX_DIGEST.test(value)) {
      target[at] = 0;
      target.write(value, at + 1, 32, 'hex');
      return;
    }
    let n = this.textNumbers.get(value);
    if (n === undefined) {
      n = this.texts.push(value) - 1;
      this.textNumbers.set(value, n);
    }
    target[at] = 1;
    target.writeUInt32LE(n, at + 1);
  }

  private grow(): void {
    this.capacity *= 2;
    const values = Buffer.alloc(this.capacity * 2 * VALUE_BYTES);
    this.values.copy(values);
    this.values = values;
    const ids = Buffer.alloc(this.capacity * ID_BYTES);
    this.ids.copy(ids);
    this.ids = ids;
    const orders = new Uint32Array(this.capacity);
    orders.set(this.orders);
    this.orders = orders;
  }
}

/** The links of a PackedLinks by one of their two hashes: an open-addressing table of link indexes (8 bytes a link). */
export class LinkIndex {
  private readonly slots: Int32Array;
  private readonly mask: number;

  constructor(
    private readonly links: PackedLinks,
    private readonly field: Field,
  ) {
    let capacity = 2;
    while (capacity < links.size * 2) capacity *= 2;
    this.slots = new Int32Array(capacity).fill(-1);
    this.mask = capacity - 1;
  }

  /** Files link `i` under its hash, unless a link is filed under the same one already (the first one filed stays). */
  add(i: number): void {
    const at = this.links.offset(i, this.field);
    for (let slot = this.slotOf(this.links.values, at); ; slot = (slot + 1) & this.mask) {
      const there = this.slots[slot];
      if (there === -1) {
        this.slots[slot] = i;
        return;
      }
      if (this.equal(this.links.values, at, there)) return;
    }
  }

  /** The link filed under the value at `at` in `source` (packed as PackedLinks packs it), or -1. */
  find(source: Buffer, at: number): number {
    for (let slot = this.slotOf(source, at); ; slot = (slot + 1) & this.mask) {
      const there = this.slots[slot];
      if (there === -1 || this.equal(source, at, there)) return there;
    }
  }

  /** A SHA-256's bytes are uniform, so four of them place it; a text's number (and its flag) does as well. */
  private slotOf(source: Buffer, at: number): number {
    return (source.readUInt32LE(at + 1) ^ (source[at] * 0x9e3779b1)) & this.mask;
  }

  private equal(source: Buffer, at: number, link: number): boolean {
    return source.compare(this.links.values, this.links.offset(link, this.field), this.links.offset(link, this.field) + VALUE_BYTES, at, at + VALUE_BYTES) === 0;
  }
}
