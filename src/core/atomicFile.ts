import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Replaces a file so that a reader (or a crash) sees either the old or the new
 * content, never a mix: write a sibling temp file, fsync it, rename over.
 */
export function writeFileAtomic(file: string, content: string | Uint8Array, durable = true): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  const fd = fs.openSync(tmp, 'w');
  try {
    writeAll(fd, content);
    // Not durable: a copy that can be made again (an imported run) is spared the fsync; the rename still keeps it whole.
    if (durable) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/** writeFileAtomic off the thread: the same temp file, fsync and rename, through the event loop. */
export async function writeFileAtomicAsync(file: string, content: Uint8Array): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}.tmp`);
  const handle = await fs.promises.open(tmp, 'w');
  try {
    await handle.writeFile(content);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await fs.promises.rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await fs.promises.rename(tmp, file);
  } catch (err) {
    await fs.promises.rm(tmp, { force: true });
    throw err;
  }
}

function writeAll(fd: number, content: string | Uint8Array): void {
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  for (let offset = 0; offset < bytes.length; ) offset += fs.writeSync(fd, bytes, offset);
}

export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}

/**
 * A file opened for appending whole lines; each call is one write(2) with
 * O_APPEND, so lines from several writers never interleave. When another
 * writer left a line unfinished (killed mid-line), the next append starts on
 * a fresh line so the fragment cannot swallow a good line.
 */
export class AppendOnlyFile {
  private readonly fd: number;
  private knownEnd = -1;

  constructor(readonly file: string) {
    this.fd = fs.openSync(file, 'a+');
  }

  append(text: string | Uint8Array): void {
    if (text.length > 0) writeAll(this.fd, text);
  }

  appendLines(lines: string): void {
    if (lines.length === 0) return;
    const size = fs.fstatSync(this.fd).size;
    let text = lines;
    if (size > 0 && size !== this.knownEnd) {
      const last = Buffer.alloc(1);
      fs.readSync(this.fd, last, 0, 1, size - 1);
      if (last[0] !== 0x0a) text = '\n' + lines;
    }
    const bytes = Buffer.from(text);
    writeAll(this.fd, bytes);
    this.knownEnd = size + bytes.length;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}
