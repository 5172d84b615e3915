import * as path from 'node:path';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { emptyRun, newSeries, type FoundSource, type ImportedRun, type RunHandle, type SeriesColumns } from './types';
import { entriesInside, flattenBounded, isFileInside, parseToolYaml, readTextFile } from './sourceFiles';
import { readRecords } from './tfrecord';

/**
 * TensorBoard event files (`events.out.tfevents.*`). Each file is one run: a
 * folder may hold files from separate sessions whose steps restart, and they
 * are kept apart rather than interleaved by step. Scalars come as
 * `simple_value` (TF1, PyTorch's writer) or as a float or double tensor with
 * an empty shape (TF2), its value in `tensor_content`, `float_val` or
 * `double_val`. The HParams plugin's `session_start_info` gives the params; a
 * Lightning `hparams.yaml` beside the file adds its own. Histograms, images,
 * graphs and other plugins are counted, not imported.
 *
 * Decoding reads only the fields of event.proto and summary.proto named
 * below and skips the rest without decoding it: the hot path by hand (see
 * WireCursor), the rare messages with @bufbuild/protobuf's BinaryReader.
 */

export const EVENT_FILE = /^events\.out\.tfevents\./;

// tensorflow/core/framework/types.proto
const DT_FLOAT = 1;
const DT_DOUBLE = 2;

export function tensorboardSource(root: string, dir: string, only?: string): FoundSource {
  return {
    kind: 'tensorboard',
    path: dir,
    async runs(): Promise<RunHandle[]> {
      const files = entriesInside(root, dir)
        .map((e) => e.name)
        .filter((name) => EVENT_FILE.test(name) && isFileInside(root, path.join(dir, name)) && (!only || name === only))
        .sort();
      const hparams = path.join(dir, 'hparams.yaml');
      const extra = isFileInside(root, hparams) ? [hparams] : [];
      return files.map((name, i) => ({
        originalId: name,
        files: [path.join(dir, name), ...extra],
        load: async () => readEventFile(path.join(dir, name), files.length > 1 ? `${path.basename(dir)} #${i + 1}` : path.basename(dir), extra[0]),
      }));
    },
  };
}

interface Counters {
  other: Map<string, number>;
}

function count(counters: Counters, what: string): void {
  counters.other.set(what, (counters.other.get(what) ?? 0) + 1);
}

export function readEventFile(file: string, name: string, hparamsYaml?: string): ImportedRun {
  const run = emptyRun(path.basename(file), name);
  run.experiment = path.basename(path.dirname(path.dirname(file))) || null;
  const counters: Counters = { other: new Map() };
  let firstWall = Infinity;
  let lastWall = -Infinity;
  let undecodable = 0;
  const stats = readRecords(file, (buf, start, end) => {
    try {
      const wall = decodeEvent(buf, start, end, run, counters);
      if (wall !== null) {
        if (wall < firstWall) firstWall = wall;
        if (wall > lastWall) lastWall = wall;
      }
    } catch {
      undecodable++;
    }
  });
  // Let the last chunk go with the file.
  viewedBuffer = bufferView = null;
  if (Number.isFinite(firstWall)) run.startedAt = firstWall * 1000;
  if (Number.isFinite(lastWall)) run.endedAt = lastWall * 1000;
  if (stats.bad > 0) run.notes.push(`${stats.bad} record(s) with a bad checksum skipped`);
  if (undecodable > 0) run.notes.push(`${undecodable} record(s) that are not Event protos skipped`);
  if (stats.truncatedTail) run.notes.push('the last record is unfinished (still being written, or the file was cut short)');
  for (const [what, n] of counters.other) run.notes.push(`${n} ${what} counted, not imported`);
  if (hparamsYaml) {
    try {
      const { params, dropped } = flattenBounded(parseToolYaml(readTextFile(hparamsYaml)));
      for (const [key, value] of Object.entries(params)) if (!(key in run.params)) run.params[key] = value;
      if (dropped > 0) run.notes.push(`hparams.yaml: ${dropped} more param(s) left out`);
    } catch (err) {
      run.notes.push(`hparams.yaml could not be read: ${(err as Error).message}`);
    }
  }
  return run;
}

/**
 * The wire format of the hot path, read in place: an Event, its Summary and
 * each Summary.Value are walked inside the record's range of the chunk
 * buffer, without a BinaryReader per record. @bufbuild/protobuf's reader
 * allocates a DataView when it is made and an array for every tag it reads;
 * over a 1M-scalar file those were most of the import (bench). The rare
 * messages (tensors, plugin metadata, hparams) still go through BinaryReader.
 * Every read is checked against the end of the message it belongs to.
 */
class WireCursor {
  pos: number;
  private readonly view: DataView;
  constructor(
    readonly buf: Buffer,
    start: number,
    public end: number,
  ) {
    this.pos = start;
    this.view = viewOf(buf);
  }

  /** A varint of up to ten bytes as a number: exact below 2^53, which steps, lengths and tags are. */
  varint(): number {
    const buf = this.buf;
    let pos = this.pos;
    let result = 0;
    let scale = 1;
    for (let i = 0; ; i++) {
      if (i === 10 || pos >= this.end) throw new RangeError('a varint runs past its message');
      const byte = buf[pos++]!;
      result += (byte & 0x7f) * scale;
      scale *= 128;
      if (byte < 0x80) break;
    }
    this.pos = pos;
    return result;
  }

  /** An int64 varint; ten bytes are a negative number in two's complement. */
  int64(): number {
    const value = this.varint();
    return value >= 2 ** 63 ? value - 2 ** 64 : value;
  }

  /** A field's key: `field << 3 | wire type`, as a number (fields past 2^28 would not fit an int). */
  key(): number {
    const key = this.varint();
    if (key > 0xffffffff || key < 8 || (key & 7) > 5) throw new RangeError(`illegal tag ${key}`);
    return key;
  }

  /** The end of a length-delimited field starting here, after its length. */
  lengthEnd(): number {
    const length = this.varint();
    const end = this.pos + length;
    if (end > this.end) throw new RangeError('a field runs past its message');
    return end;
  }

  double(): number {
    if (this.pos + 8 > this.end) throw new RangeError('a double runs past its message');
    const value = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return value;
  }

  float(): number {
    if (this.pos + 4 > this.end) throw new RangeError('a float runs past its message');
    const value = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return value;
  }

  skip(wire: number): void {
    if (wire === WireType.Varint) this.varint();
    else if (wire === WireType.Bit64) this.pos += 8;
    else if (wire === WireType.Bit32) this.pos += 4;
    else if (wire === WireType.LengthDelimited) this.pos = this.lengthEnd();
    // Groups are deprecated and appear in no event or summary message.
    else throw new RangeError(`wire type ${wire} is not read here`);
    if (this.pos > this.end) throw new RangeError('a field runs past its message');
  }
}

/** One DataView per chunk buffer, not per record: Buffer's own readDoubleLE was slower still. */
let viewedBuffer: Buffer | null = null;
let bufferView: DataView | null = null;

function viewOf(buf: Buffer): DataView {
  if (buf !== viewedBuffer || !bufferView) {
    viewedBuffer = buf;
    bufferView = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  return bufferView;
}

/** One Event in `buf[start, end)`: its scalars go into the run's series; returns its wall time. */
function decodeEvent(buf: Buffer, start: number, end: number, run: ImportedRun, counters: Counters): number | null {
  const cursor = new WireCursor(buf, start, end);
  let wall: number | null = null;
  let step = 0;
  let summaryStart = -1;
  let summaryEnd = -1;
  while (cursor.pos < end) {
    const key = cursor.key();
    const field = key >>> 3;
    const wire = key & 7;
    if (field === 1 && wire === WireType.Bit64) wall = cursor.double();
    else if (field === 2 && wire === WireType.Varint) step = cursor.int64();
    else if (field === 5 && wire === WireType.LengthDelimited) {
      summaryEnd = cursor.lengthEnd();
      summaryStart = cursor.pos;
      cursor.pos = summaryEnd;
    } else {
      if (field === 4 || field === 9) count(counters, 'graph(s)');
      else if (field === 8) count(counters, 'run metadata record(s)');
      cursor.skip(wire);
    }
  }
  if (summaryStart >= 0) {
    cursor.pos = summaryStart;
    cursor.end = summaryEnd;
    while (cursor.pos < summaryEnd) {
      const key = cursor.key();
      if (key === ((1 << 3) | WireType.LengthDelimited)) {
        const valueEnd = cursor.lengthEnd();
        const outer = cursor.end;
        cursor.end = valueEnd;
        decodeValue(cursor, step, wall ?? NaN, run, counters);
        cursor.end = outer;
        cursor.pos = valueEnd;
      } else cursor.skip(key & 7);
    }
  }
  return wall;
}

/**
 * A value's tag, decoded once per distinct tag: a file repeats a few tags a
 * million times, and decoding each as UTF-8 was the largest cost left (bench).
 * The bytes are compared where they lie in the record.
 */
const tagCache: { bytes: Uint8Array; text: string }[] = [];
const TAG_CACHE_SIZE = 64;

function tagText(cursor: WireCursor): string {
  const end = cursor.lengthEnd();
  const start = cursor.pos;
  const buf = cursor.buf;
  cursor.pos = end;
  for (const cached of tagCache) {
    if (cached.bytes.length !== end - start) continue;
    let same = true;
    for (let i = 0; i < cached.bytes.length && same; i++) same = cached.bytes[i] === buf[start + i];
    if (same) return cached.text;
  }
  const bytes = Uint8Array.prototype.slice.call(buf, start, end);
  const text = new TextDecoder().decode(bytes);
  if (tagCache.length >= TAG_CACHE_SIZE) tagCache.shift();
  tagCache.push({ bytes, text });
  return text;
}

const VALUE_KINDS: Record<number, string> = { 3: 'old-style histogram(s)', 4: 'image(s)', 5: 'histogram(s)', 6: 'audio clip(s)' };

/** One Summary.Value, from the cursor's position to its end. */
function decodeValue(cursor: WireCursor, step: number, wall: number, run: ImportedRun, counters: Counters): void {
  let tag = '';
  let simple: number | null = null;
  let tensor: Uint8Array | null = null;
  let plugin: string | null = null;
  let pluginContent: Uint8Array | null = null;
  let kind: string | null = null;
  while (cursor.pos < cursor.end) {
    const key = cursor.key();
    const field = key >>> 3;
    const wire = key & 7;
    if (field === 1 && wire === WireType.LengthDelimited) tag = tagText(cursor);
    else if (field === 2 && wire === WireType.Bit32) simple = cursor.float();
    else if ((field === 8 || field === 9) && wire === WireType.LengthDelimited) {
      const end = cursor.lengthEnd();
      const bytes = cursor.buf.subarray(cursor.pos, end);
      cursor.pos = end;
      if (field === 8) tensor = bytes;
      else [plugin, pluginContent] = decodeMetadata(bytes);
    } else {
      kind = VALUE_KINDS[field] ?? kind;
      cursor.skip(wire);
    }
  }
  if (plugin === 'hparams' && pluginContent) {
    decodeHparams(pluginContent, run);
    return;
  }
  let value = simple;
  if (value === null && tensor) value = scalarOfTensor(tensor);
  if (value === null) {
    count(counters, kind ?? (plugin ? `${plugin} value(s)` : 'non-scalar value(s)'));
    return;
  }
  let series: SeriesColumns | undefined = run.metrics.get(tag);
  if (!series) run.metrics.set(tag, (series = newSeries()));
  series.step.push(step);
  series.t.push(wall);
  series.value.push(value);
}

function decodeMetadata(data: Uint8Array): [string | null, Uint8Array | null] {
  const reader = new BinaryReader(data);
  let name: string | null = null;
  let content: Uint8Array | null = null;
  while (reader.pos < reader.len) {
    const [field, wire] = reader.tag();
    if (field === 1 && wire === WireType.LengthDelimited) {
      const plugin = new BinaryReader(reader.bytes());
      while (plugin.pos < plugin.len) {
        const [f, w] = plugin.tag();
        if (f === 1 && w === WireType.LengthDelimited) name = plugin.string();
        else if (f === 2 && w === WireType.LengthDelimited) content = plugin.bytes();
        else plugin.skip(w, f);
      }
    } else reader.skip(wire, field);
  }
  return [name, content];
}

/** A TensorProto holding one float or double with an empty shape; anything else is not a scalar. */
function scalarOfTensor(data: Uint8Array): number | null {
  const reader = new BinaryReader(data);
  let dtype = 0;
  let dims = 0;
  let content: Uint8Array | null = null;
  const values: number[] = [];
  while (reader.pos < reader.len) {
    const [field, wire] = reader.tag();
    if (field === 1 && wire === WireType.Varint) dtype = reader.int32();
    else if (field === 2 && wire === WireType.LengthDelimited) {
      const shape = new BinaryReader(reader.bytes());
      while (shape.pos < shape.len) {
        const [f, w] = shape.tag();
        if (f === 2) dims++;
        shape.skip(w, f);
      }
    } else if (field === 4 && wire === WireType.LengthDelimited) content = reader.bytes();
    else if (field === 5 || field === 6) {
      const isDouble = field === 6;
      if (wire === WireType.LengthDelimited) {
        const packed = new BinaryReader(reader.bytes());
        while (packed.pos < packed.len) values.push(isDouble ? packed.double() : packed.float());
      } else values.push(isDouble ? reader.double() : reader.float());
    } else reader.skip(wire, field);
  }
  if (dims > 0 || (dtype !== DT_FLOAT && dtype !== DT_DOUBLE)) return null;
  if (content) {
    const view = new DataView(content.buffer, content.byteOffset, content.byteLength);
    if (dtype === DT_FLOAT && content.byteLength === 4) return view.getFloat32(0, true);
    if (dtype === DT_DOUBLE && content.byteLength === 8) return view.getFloat64(0, true);
    return null;
  }
  return values.length === 1 ? values[0]! : null;
}

/** HParamsPluginData: session_start_info (field 3) holds `hparams`, a map of google.protobuf.Value. */
function decodeHparams(data: Uint8Array, run: ImportedRun): void {
  const reader = new BinaryReader(data);
  while (reader.pos < reader.len) {
    const [field, wire] = reader.tag();
    if (field === 3 && wire === WireType.LengthDelimited) {
      const start = new BinaryReader(reader.bytes());
      while (start.pos < start.len) {
        const [f, w] = start.tag();
        if (f === 1 && w === WireType.LengthDelimited) {
          const entry = new BinaryReader(start.bytes());
          let key = '';
          let value: unknown = null;
          while (entry.pos < entry.len) {
            const [ef, ew] = entry.tag();
            if (ef === 1 && ew === WireType.LengthDelimited) key = entry.string();
            else if (ef === 2 && ew === WireType.LengthDelimited) value = decodeProtoValue(entry.bytes());
            else entry.skip(ew, ef);
          }
          if (key) run.params[key] = value;
        } else if (f === 4 && w === WireType.LengthDelimited) {
          run.tags['hparams.group_name'] = start.string();
        } else start.skip(w, f);
      }
    } else if (field === 4 && wire === WireType.LengthDelimited) {
      const end = new BinaryReader(reader.bytes());
      while (end.pos < end.len) {
        const [f, w] = end.tag();
        if (f === 1 && w === WireType.Varint) {
          const status = end.int32();
          run.status = status === 2 ? 'failed' : status === 3 ? 'running' : 'finished';
        } else end.skip(w, f);
      }
    } else reader.skip(wire, field);
  }
}

/** google.protobuf.Value as a param: number, text or boolean; a struct or list is kept as its kind. */
function decodeProtoValue(data: Uint8Array): unknown {
  const reader = new BinaryReader(data);
  let value: unknown = null;
  while (reader.pos < reader.len) {
    const [field, wire] = reader.tag();
    if (field === 2 && wire === WireType.Bit64) value = reader.double();
    else if (field === 3 && wire === WireType.LengthDelimited) value = reader.string();
    else if (field === 4 && wire === WireType.Varint) value = reader.bool();
    else {
      if (field === 5) value = '{struct}';
      else if (field === 6) value = '[list]';
      reader.skip(wire, field);
    }
  }
  return value;
}

