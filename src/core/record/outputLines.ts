/** Past this many bytes without a line end, what is pending goes out as a line of its own. */
export const MAX_PENDING_BYTES = 1 << 20;

const LF = 0x0a;
const CR = 0x0d;

/**
 * Cuts a command's output into the lines a terminal ends up showing. A `\n`
 * ends a line. A `\r` returns to the start of the line, so what came before it
 * on that line is overwritten: a progress bar that redraws itself 300,000
 * times (tqdm) is one line, its last state, and neither memory nor the log
 * grows with every redraw. `\r\n` is a plain line end. Line ends are single
 * bytes that never occur inside a UTF-8 character, so no character is split.
 *
 * Nothing waits without bound: past `maxPending` bytes with no line end, the
 * pending text goes out as a line.
 */
export class DisplayLines {
  /** Bytes of the current segment (since the last line end or `\r`). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** The current line's last segment closed by `\r`: what shows if nothing else is written over it. */
  private overwritten: Buffer | null = null;

  constructor(private readonly maxPending = MAX_PENDING_BYTES) {}

  /** The lines this chunk completed, each ending in `\n`, or '' when none is complete yet. */
  push(chunk: Buffer): string {
    if (chunk.indexOf(CR) < 0 && this.overwritten === null) return this.pushPlain(chunk);
    let out = '';
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      if (byte !== LF && byte !== CR) continue;
      const segment = this.takeSegment(chunk.subarray(start, i));
      start = i + 1;
      if (byte === LF) {
        const line = segment.length > 0 ? segment : this.overwritten;
        this.overwritten = null;
        out += (line ? line.toString('utf8') : '') + '\n';
      } else if (segment.length > 0) {
        this.overwritten = segment;
      }
    }
    out += this.keep(chunk.subarray(start));
    return out;
  }

  /** What is left when the stream ends: the last line, if it had no line end. */
  end(): string {
    const segment = this.takeSegment(Buffer.alloc(0));
    const line = segment.length > 0 ? segment : this.overwritten;
    this.overwritten = null;
    return line ? line.toString('utf8') + '\n' : '';
  }

  /** The common case, output with no `\r`: everything up to the last `\n` goes out at once. */
  private pushPlain(chunk: Buffer): string {
    const last = chunk.lastIndexOf(LF);
    if (last < 0) return this.keep(chunk);
    const complete = this.takeSegment(chunk.subarray(0, last + 1)).toString('utf8');
    return complete + this.keep(chunk.subarray(last + 1));
  }

  private takeSegment(tail: Buffer): Buffer {
    if (this.pendingBytes === 0) return tail;
    const whole = Buffer.concat([...this.pending, tail]);
    this.pending = [];
    this.pendingBytes = 0;
    return whole;
  }

  /** Keeps an unfinished segment; one grown past the bound goes out as a line. */
  private keep(rest: Buffer): string {
    if (rest.length === 0) return '';
    // A copy: the caller's chunk may be a pooled buffer that is reused.
    this.pending.push(Buffer.from(rest));
    this.pendingBytes += rest.length;
    if (this.pendingBytes <= this.maxPending) return '';
    return this.takeSegment(Buffer.alloc(0)).toString('utf8') + '\n';
  }
}
