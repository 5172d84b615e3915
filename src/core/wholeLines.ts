import * as fs from 'node:fs';

const CHUNK = 1 << 20;

/**
 * Reads `file` from byte `offset` (up to `end`) in large chunks and hands over
 * whole lines only, several at a time, never splitting a UTF-8 character.
 * Returns the offset just past the last newline read, and what followed it: an
 * unfinished last line, still being written or torn by a writer that died.
 */
export function readWholeLines(file: string, offset: number, onLines: (text: string) => void, end?: number, chunkSize = CHUNK): { offset: number; tail: string } {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { offset, tail: '' };
    throw err;
  }
  const buffer = Buffer.allocUnsafe(chunkSize);
  // The unfinished line so far, in pieces: a line longer than a chunk is joined once, when its
  // newline arrives, not copied again with every chunk.
  let carry: Buffer[] = [];
  let position = offset;
  let consumed = offset;
  try {
    for (;;) {
      const want = end === undefined ? chunkSize : Math.min(chunkSize, end - position);
      if (want <= 0) break;
      const n = fs.readSync(fd, buffer, 0, want, position);
      if (n === 0) break;
      position += n;
      const read = buffer.subarray(0, n);
      const last = read.lastIndexOf(0x0a);
      if (last < 0) {
        carry.push(Buffer.from(read));
        continue;
      }
      const lines = carry.length ? Buffer.concat([...carry, read.subarray(0, last + 1)]) : read.subarray(0, last + 1);
      onLines(lines.toString('utf8'));
      consumed += lines.length;
      carry = last + 1 < n ? [Buffer.from(read.subarray(last + 1))] : [];
    }
  } finally {
    fs.closeSync(fd);
  }
  return { offset: consumed, tail: Buffer.concat(carry).toString('utf8') };
}
