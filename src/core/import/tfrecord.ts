import * as fs from 'node:fs';

/**
 * TFRecord framing, as TensorFlow writes event files: a little-endian u64
 * length, the masked CRC-32C of those 8 bytes, the data, and the masked
 * CRC-32C of the data. Both checksums are verified. A record that fails is
 * counted and skipped: after a bad length the reader moves on byte by byte
 * to the next header whose checksum holds, so the rest of the file is still
 * read. The file is read in chunks, never whole.
 */

const MASK_DELTA = 0xa282ead8;
const CHUNK = 4 * 1024 * 1024;
/** A record longer than this is taken for a corrupt length, not read. */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;

/**
 * CRC-32C (Castagnoli) tables for slicing by 8. Written here rather than taken
 * from crc-32: its `buf()` checks a whole array, so every record cost a
 * subarray for its header and one for its data, and those two million
 * subarrays of a 1M-scalar file made the checksums 4× slower than checking
 * the same ranges in place (bench). crc-32 stays the tests' reference.
 */
const CRC_TABLES: Int32Array[] = (() => {
  const first = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    first[n] = c;
  }
  const tables = [first];
  for (let j = 1; j < 8; j++) {
    const previous = tables[j - 1]!;
    const table = new Int32Array(256);
    for (let n = 0; n < 256; n++) table[n] = (previous[n]! >>> 8) ^ first[previous[n]! & 0xff]!;
    tables.push(table);
  }
  return tables;
})();

/** The CRC-32C of `bytes[start, end)`, unsigned. */
export function crc32c(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = CRC_TABLES as [Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array];
  let crc = -1;
  let i = start;
  for (const last = end - 7; i < last; i += 8) {
    crc ^= bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    crc =
      t7[crc & 0xff]! ^ t6[(crc >>> 8) & 0xff]! ^ t5[(crc >>> 16) & 0xff]! ^ t4[crc >>> 24]! ^
      t3[bytes[i + 4]!]! ^ t2[bytes[i + 5]!]! ^ t1[bytes[i + 6]!]! ^ t0[bytes[i + 7]!]!;
  }
  for (; i < end; i++) crc = (crc >>> 8) ^ t0[(crc ^ bytes[i]!) & 0xff]!;
  return ~crc >>> 0;
}

/** TFRecord's masked CRC-32C of `bytes[start, end)`. */
export function maskedCrc32c(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const crc = crc32c(bytes, start, end);
  return (((crc >>> 15) | (crc << 17)) + MASK_DELTA) >>> 0;
}

/** A little-endian u32 at `at`; Buffer's readUInt32LE was a tenth of a 1M-record read (bench). */
function u32(buf: Uint8Array, at: number): number {
  return (buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16) | (buf[at + 3]! << 24)) >>> 0;
}

export interface RecordStats {
  records: number;
  /** Records whose checksums failed, and spans skipped while looking for the next good header. */
  bad: number;
  /** An unfinished record at the end: a writer still writing, or a file cut short. */
  truncatedTail: boolean;
}

/**
 * Calls `onRecord(buf, start, end)` for each good record, its data being
 * `buf[start, end)`: ranges rather than subarrays, so that a file of a
 * million small records allocates per chunk, not per record. `buf` is the
 * same object until the reader refills it.
 */
export function readRecords(file: string, onRecord: (buf: Buffer, start: number, end: number) => void): RecordStats {
  const stats: RecordStats = { records: 0, bad: 0, truncatedTail: false };
  const fd = fs.openSync(file, 'r');
  try {
    let buf: Buffer = Buffer.alloc(0);
    // Records are read at `off` inside `buf`; the buffer is cut and refilled only when a record does not fit.
    let off = 0;
    let filePos = 0;
    let eof = false;
    const fill = (need: number): boolean => {
      if (buf.length - off >= need) return true;
      buf = buf.subarray(off);
      off = 0;
      while (buf.length < need && !eof) {
        const chunk = Buffer.allocUnsafe(Math.max(CHUNK, need - buf.length));
        const n = fs.readSync(fd, chunk, 0, chunk.length, filePos);
        if (n === 0) eof = true;
        filePos += n;
        buf = buf.length === 0 ? chunk.subarray(0, n) : Buffer.concat([buf, chunk.subarray(0, n)]);
      }
      return buf.length >= need;
    };
    let inBadSpan = false;
    for (;;) {
      if (!fill(12)) {
        if (buf.length - off > 0) stats.truncatedTail = true;
        break;
      }
      const lengthOk = maskedCrc32c(buf, off, off + 8) === u32(buf, off + 8);
      const length = u32(buf, off) + u32(buf, off + 4) * 2 ** 32;
      if (!lengthOk || length > MAX_RECORD_BYTES) {
        if (!inBadSpan) stats.bad++;
        inBadSpan = true;
        off++;
        continue;
      }
      if (!fill(12 + length + 4)) {
        stats.truncatedTail = true;
        break;
      }
      inBadSpan = false;
      if (maskedCrc32c(buf, off + 12, off + 12 + length) === u32(buf, off + 12 + length)) {
        stats.records++;
        onRecord(buf, off + 12, off + 12 + length);
      } else {
        stats.bad++;
      }
      off += 12 + length + 4;
    }
  } finally {
    fs.closeSync(fd);
  }
  return stats;
}
