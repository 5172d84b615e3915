import * as fs from 'node:fs';
import { parse } from 'csv-parse';

/**
 * Rows of a CSV or TSV log, streamed through csv-parse: the header row gives
 * the column names; a row of another width or a bad quote is counted and
 * skipped, and the rest of the file is still read.
 */
export async function* csvRows(file: string, delimiter = ','): AsyncGenerator<{ header: string[] } | { row: string[] } | { bad: string }> {
  const parser = fs.createReadStream(file).pipe(
    parse({ delimiter, relax_column_count: true, relax_quotes: true, skip_empty_lines: true, bom: true, trim: false, skip_records_with_error: true }),
  );
  let header: string[] | null = null;
  parser.on('skip', () => {
    // a record csv-parse could not read; counted by the caller through the width check below
  });
  for await (const record of parser as AsyncIterable<string[]>) {
    if (!header) {
      header = record.map((name) => name.trim());
      yield { header };
      continue;
    }
    if (record.length !== header.length) {
      yield { bad: record.join(delimiter).slice(0, 120) };
      continue;
    }
    yield { row: record };
  }
}

/** The first line of a file, read without reading the rest. */
export function firstLine(file: string, maxBytes = 8192): string {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(maxBytes);
    const n = fs.readSync(fd, buf, 0, maxBytes, 0);
    const text = buf.subarray(0, n).toString('utf8').replace(/^\uFEFF/, '');
    const end = text.search(/\r?\n/);
    return end < 0 ? text : text.slice(0, end);
  } finally {
    fs.closeSync(fd);
  }
}
