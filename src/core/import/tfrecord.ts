import * as fs from 'node:fs';
// crc-32's CRC-32C (Castagnoli) variant, pure JavaScript: nothing native to build in an extension.
import * as CRC32C from 'crc-32/crc32c';

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

export function maskedCrc32c(bytes: Uint8Array): number {
  const crc = CRC32C.buf(bytes) >>> 0;
  return (((crc >>> 15) | (crc << 17)) + MASK_DELTA) >>> 0;
}

export interface RecordStats {
  records: number;
  /** Records whose checksums failed, and spans skipped while looking for the next good header. */
  bad: number;
  /** An unfinished record at the end: a writer still writing, or a file cut short. */
  truncatedTail: boolean;
}

export function readRecords(file: string, onRecord: (data: Uint8Array) => void): RecordStats {
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
      const lengthOk = maskedCrc32c(buf.subarray(off, off + 8)) === buf.readUInt32LE(off + 8);
      const length = buf.readUInt32LE(off) + buf.readUInt32LE(off + 4) * 2 ** 32;
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
      const data = buf.subarray(off + 12, off + 12 + length);
      if (maskedCrc32c(data) === buf.readUInt32LE(off + 12 + length)) {
        stats.records++;
        onRecord(data);
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
