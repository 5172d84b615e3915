/**
 * The importers' bench rows, each beside its floor measured in the same run:
 * a generated mlruns/ of 1,000 runs × 10 metrics × 1,000 steps against
 * reading every file of it; a 1,000,000-scalar event file against a bare loop
 * over its records; and a re-import with nothing changed.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { importRuns } from '../src/core/import/importRuns';
import { maskedCrc32c } from '../src/core/import/tfrecord';
import type { BenchRow } from './row';

const RUNS = 1000;
const METRICS = 10;
const STEPS = 1000;
const SCALARS = 1_000_000;

function log(text: string): void {
  process.stderr.write(`[bench] ${text}\n`);
}

function makeMlruns(root: string): void {
  const store = path.join(root, 'mlruns');
  const exp = path.join(store, '1');
  fs.mkdirSync(exp, { recursive: true });
  fs.writeFileSync(path.join(exp, 'meta.yaml'), "artifact_location: mlflow-artifacts:/1\nexperiment_id: '1'\nlifecycle_stage: active\nname: sweep\n");
  const t0 = 1_700_000_000_000;
  for (let r = 0; r < RUNS; r++) {
    const id = r.toString(16).padStart(32, '0');
    const dir = path.join(exp, id);
    for (const sub of ['params', 'tags', 'metrics']) fs.mkdirSync(path.join(dir, sub), { recursive: true });
    fs.writeFileSync(path.join(dir, 'meta.yaml'), `run_id: ${id}\nrun_name: run-${r}\nstatus: 3\nstart_time: ${t0 + r * 60_000}\nend_time: ${t0 + r * 60_000 + 50_000}\nlifecycle_stage: active\nuser_id: bench\nexperiment_id: '1'\n`);
    fs.writeFileSync(path.join(dir, 'params', 'lr'), String(0.001 * (1 + (r % 10))));
    fs.writeFileSync(path.join(dir, 'params', 'batch_size'), String(32 << r % 3));
    fs.writeFileSync(path.join(dir, 'tags', 'mlflow.runName'), `run-${r}`);
    for (let m = 0; m < METRICS; m++) {
      let text = '';
      for (let s = 0; s < STEPS; s++) text += `${t0 + r * 60_000 + s * 50} ${Math.exp(-s / 300) * (1 + m) + ((s * 7919) % 13) / 1000} ${s}\n`;
      fs.writeFileSync(path.join(dir, 'metrics', `metric_${m}`), text);
    }
  }
}

/**
 * The floor for a file store: list every folder, read every file, and turn
 * each line's fields into numbers, in one process: the least any importer
 * must do.
 */
function readEveryFile(dir: string): number {
  let values = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) values += readEveryFile(full);
    else {
      const text = fs.readFileSync(full, 'latin1');
      let sum = 0;
      for (let start = 0; start < text.length; ) {
        let end = text.indexOf('\n', start);
        if (end < 0) end = text.length;
        const a = text.indexOf(' ', start);
        const b = a < 0 || a > end ? -1 : text.indexOf(' ', a + 1);
        if (b >= 0 && b < end) {
          sum += Number(text.slice(start, a)) + Number(text.slice(a + 1, b)) + Number(text.slice(b + 1, end));
          values++;
        }
        start = end + 1;
      }
      if (Number.isNaN(sum)) values--;
    }
  }
  return values;
}

function eventRecord(payload: Uint8Array): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt32LE(payload.length, 0);
  header.writeUInt32LE(0, 4);
  header.writeUInt32LE(maskedCrc32c(header.subarray(0, 8)), 8);
  const footer = Buffer.alloc(4);
  footer.writeUInt32LE(maskedCrc32c(payload), 0);
  return Buffer.concat([header, payload, footer]);
}

/** An event file as PyTorch's SummaryWriter writes it: one Event per scalar, `simple_value` in a Summary.Value. */
function makeEventFile(dir: string): string {
  const file = path.join(dir, 'events.out.tfevents.1700000000.bench.1.0');
  const fd = fs.openSync(file, 'w');
  const chunks: Buffer[] = [];
  const tags = ['loss', 'accuracy', 'lr', 'grad_norm'];
  for (let i = 0; i < SCALARS; i++) {
    const value = new BinaryWriter().tag(1, WireType.LengthDelimited).string(tags[i % 4]!).tag(2, WireType.Bit32).float(Math.sin(i / 1000)).finish();
    const summary = new BinaryWriter().tag(1, WireType.LengthDelimited).bytes(value).finish();
    const event = new BinaryWriter().tag(1, WireType.Bit64).double(1_700_000_000 + i / 100).tag(2, WireType.Varint).int64(Math.floor(i / 4)).tag(5, WireType.LengthDelimited).bytes(summary).finish();
    chunks.push(eventRecord(event));
    if (chunks.length === 10_000) fs.writeSync(fd, Buffer.concat(chunks.splice(0)));
  }
  if (chunks.length) fs.writeSync(fd, Buffer.concat(chunks));
  fs.closeSync(fd);
  return file;
}

/** The floor for an event file: read it in chunks and step over each record's framing, decoding nothing. */
function loopOverRecords(file: string): number {
  const data = fs.readFileSync(file);
  let records = 0;
  for (let pos = 0; pos + 12 <= data.length; records++) pos += 12 + data.readUInt32LE(pos) + 4;
  return records;
}

/** The same loop checking both CRC-32Cs of every record, as the importer must: what the checksums alone cost. */
function loopCheckingCrcs(file: string): number {
  const data = fs.readFileSync(file);
  let good = 0;
  for (let pos = 0; pos + 12 <= data.length; ) {
    const length = data.readUInt32LE(pos);
    if (maskedCrc32c(data, pos, pos + 8) === data.readUInt32LE(pos + 8) && maskedCrc32c(data, pos + 12, pos + 12 + length) === data.readUInt32LE(pos + 12 + length)) good++;
    pos += 12 + length + 4;
  }
  return good;
}

function time<T>(work: () => T): [number, T] {
  const start = performance.now();
  const result = work();
  return [performance.now() - start, result];
}

async function timeAsync<T>(work: () => Promise<T>): Promise<[number, T]> {
  const start = performance.now();
  const result = await work();
  return [performance.now() - start, result];
}

export async function benchImport(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-bench-import-')));
  try {
    log(`generating mlruns/: ${RUNS} runs × ${METRICS} metrics × ${STEPS} steps`);
    makeMlruns(root);
    const store = path.join(root, '.runlens');
    // The floor runs before and after the import, and the faster is kept: the page cache favours neither.
    const [floorA, lines] = time(() => readEveryFile(path.join(root, 'mlruns')));
    const [importMs, summary] = await timeAsync(() => importRuns(store, [path.join(root, 'mlruns')]));
    const [floorB] = time(() => readEveryFile(path.join(root, 'mlruns')));
    const floor = Math.min(floorA, floorB);
    const source = summary.sources[0]!;
    if (source.added !== RUNS || source.points !== RUNS * METRICS * STEPS) throw new Error(`import read ${source.added} runs, ${source.points} points`);
    if (lines < RUNS * METRICS * STEPS) throw new Error(`the floor read ${lines} lines`);
    log(`mlruns/ import ${importMs.toFixed(0)} ms, floor ${floorA.toFixed(0)} / ${floorB.toFixed(0)} ms`);
    rows.push({
      figure: `import mlruns/: ${RUNS} runs × ${METRICS} metrics × ${STEPS / 1000}k steps`,
      measured: `${(importMs / 1000).toFixed(1)} s`,
      floor: `${(floor / 1000).toFixed(1)} s read + parse every line`,
      ratio: `${(importMs / floor).toFixed(2)}×`,
      target: '≤ 2× floor',
      ok: importMs <= 2 * floor,
    });
    const repeats: number[] = [];
    for (let i = 0; i < 3; i++) {
      const [ms, again] = await timeAsync(() => importRuns(store, [path.join(root, 'mlruns')]));
      if (again.sources[0]!.unchanged !== RUNS) throw new Error(`re-import found ${again.sources[0]!.unchanged} unchanged runs`);
      repeats.push(ms);
    }
    const reimport = repeats.sort((a, b) => a - b)[1]!;
    const [statFloor] = time(() => {
      let n = 0;
      const walk = (dir: string) => {
        for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
          if (entry.isDirectory()) walk(path.join(dir, entry.name));
          else n += fs.statSync(path.join(dir, entry.name)).size > 0 ? 1 : 0;
        }
      };
      walk(path.join(root, 'mlruns'));
      return n;
    });
    rows.push({
      figure: `re-import of the same mlruns/, nothing changed (median of 3)`,
      measured: `${reimport.toFixed(0)} ms`,
      floor: `${statFloor.toFixed(0)} ms list + stat every file`,
      ratio: `${(reimport / statFloor).toFixed(1)}×`,
      target: '≤ 200 ms',
      ok: reimport <= 200,
    });
    fs.rmSync(path.join(root, 'mlruns'), { recursive: true, force: true });
    fs.rmSync(store, { recursive: true, force: true });

    log(`generating an event file of ${SCALARS / 1e6}M scalars`);
    const boardDir = path.join(root, 'board');
    fs.mkdirSync(boardDir);
    const file = makeEventFile(boardDir);
    const [eventFloorA, records] = time(() => loopOverRecords(file));
    const [eventMs, events] = await timeAsync(() => importRuns(store, [boardDir]));
    const [eventFloorB] = time(() => loopOverRecords(file));
    const eventFloor = Math.min(eventFloorA, eventFloorB);
    const [crcLoop, checked] = time(() => loopCheckingCrcs(file));
    if (checked !== SCALARS) throw new Error(`the CRC loop found ${checked} good records`);
    if (records !== SCALARS || events.sources[0]!.points !== SCALARS) throw new Error(`event import read ${events.sources[0]?.points} of ${records} scalars`);
    rows.push({
      figure: `import one event file of ${SCALARS / 1e6}M scalars (${(fs.statSync(file).size / 1e6).toFixed(0)} MB)`,
      measured: `${(eventMs / 1000).toFixed(2)} s`,
      floor: `${(eventFloor / 1000).toFixed(2)} s bare loop over records (${(crcLoop / 1000).toFixed(2)} s checking both CRCs)`,
      ratio: `${(eventMs / eventFloor).toFixed(1)}×`,
      target: '≤ 2× floor',
      ok: eventMs <= 2 * eventFloor,
    });
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  return rows;
}
