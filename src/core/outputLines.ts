/**
 * Cuts a byte stream into whole lines without ever splitting a UTF-8
 * character: the bytes up to the last newline of each chunk go out together,
 * the rest waits for the next chunk.
 */
export class LineSplitter {
  private carry: Buffer = Buffer.alloc(0);

  /** The complete lines in this chunk (with their newlines), or null when there is none yet. */
  push(chunk: Buffer): Buffer | null {
    const last = chunk.lastIndexOf(0x0a);
    if (last < 0) {
      this.carry = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
      return null;
    }
    const complete = this.carry.length ? Buffer.concat([this.carry, chunk.subarray(0, last + 1)]) : chunk.subarray(0, last + 1);
    this.carry = chunk.subarray(last + 1);
    return complete;
  }

  /** What is left when the stream ends: a last line without a newline. */
  end(): Buffer | null {
    const rest = this.carry;
    this.carry = Buffer.alloc(0);
    return rest.length ? rest : null;
  }
}
