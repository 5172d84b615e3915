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
 * Decoding walks the wire format with @bufbuild/protobuf's BinaryReader,
 * reading only the fields of event.proto and summary.proto named below and
 * skipping the rest without decoding it.
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
  const stats = readRecords(file, (data) => {
    try {
      const wall = decodeEvent(data, run, counters);
      if (wall !== null) {
        if (wall < firstWall) firstWall = wall;
        if (wall > lastWall) lastWall = wall;
      }
    } catch {
      undecodable++;
    }
  });
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
 * One Event: its scalars go into the run's series; returns its wall time.
 * One BinaryReader walks the whole record, nested messages included (each
 * read up to its end offset): a reader per nested message was most of the
 * time of a 1M-scalar file (bench).
 */
function decodeEvent(data: Uint8Array, run: ImportedRun, counters: Counters): number | null {
  const reader = new BinaryReader(data);
  let wall: number | null = null;
  let step = 0;
  let summaryStart = -1;
  let summaryEnd = -1;
  while (reader.pos < reader.len) {
    const [field, wire] = reader.tag();
    if (field === 1 && wire === WireType.Bit64) wall = reader.double();
    else if (field === 2 && wire === WireType.Varint) step = int64AsNumber(data, reader);
    else if (field === 5 && wire === WireType.LengthDelimited) {
      const length = reader.uint32();
      summaryStart = reader.pos;
      summaryEnd = reader.pos + length;
      reader.pos = summaryEnd;
    } else {
      if (field === 4 || field === 9) count(counters, 'graph(s)');
      else if (field === 8) count(counters, 'run metadata record(s)');
      reader.skip(wire, field);
    }
  }
  if (summaryStart >= 0) {
    if (summaryEnd > reader.len) throw new RangeError('summary runs past the record');
    reader.pos = summaryStart;
    while (reader.pos < summaryEnd) {
      const [field, wire] = reader.tag();
      if (field === 1 && wire === WireType.LengthDelimited) {
        const end = reader.uint32() + reader.pos;
        decodeValue(reader, end, step, wall ?? NaN, run, counters);
        reader.pos = end;
      } else reader.skip(wire, field);
    }
  }
  return wall;
}

/**
 * An int64 varint as a number, read from `data` at the reader's position.
 * BinaryReader.int64() makes a BigInt for every event's step, which cost a
 * fifth of a 1M-scalar import (bench); steps fit a double.
 */
function int64AsNumber(data: Uint8Array, reader: BinaryReader): number {
  let pos = reader.pos;
  let result = 0;
  let scale = 1;
  for (let i = 0; ; i++) {
    if (i === 10 || pos >= data.length) throw new RangeError('a varint runs past its record');
    const byte = data[pos++]!;
    result += (byte & 0x7f) * scale;
    scale *= 128;
    if (byte < 0x80) break;
  }
  reader.pos = pos;
  // Ten bytes are a negative int64 in two's complement.
  return result >= 2 ** 63 ? result - 2 ** 64 : result;
}

/**
 * A value's tag, decoded once per distinct tag: a file repeats a few tags a
 * million times, and decoding each as UTF-8 was the largest cost left (bench).
 */
const tagCache: { bytes: Uint8Array; text: string }[] = [];
const TAG_CACHE_SIZE = 64;

function tagText(reader: BinaryReader): string {
  const bytes = reader.bytes();
  for (const cached of tagCache) {
    if (cached.bytes.length !== bytes.length) continue;
    let same = true;
    for (let i = 0; i < bytes.length && same; i++) same = cached.bytes[i] === bytes[i];
    if (same) return cached.text;
  }
  const text = new TextDecoder().decode(bytes);
  if (tagCache.length >= TAG_CACHE_SIZE) tagCache.shift();
  tagCache.push({ bytes: bytes.slice(), text });
  return text;
}

function sub(reader: BinaryReader): Uint8Array {
  return reader.bytes();
}

function decodeValue(reader: BinaryReader, end: number, step: number, wall: number, run: ImportedRun, counters: Counters): void {
  let tag = '';
  let simple: number | null = null;
  let tensor: Uint8Array | null = null;
  let plugin: string | null = null;
  let pluginContent: Uint8Array | null = null;
  let kind: string | null = null;
  while (reader.pos < end) {
    const [field, wire] = reader.tag();
    if (field === 1 && wire === WireType.LengthDelimited) tag = tagText(reader);
    else if (field === 2 && wire === WireType.Bit32) simple = reader.float();
    else if (field === 8 && wire === WireType.LengthDelimited) tensor = sub(reader);
    else if (field === 9 && wire === WireType.LengthDelimited) [plugin, pluginContent] = decodeMetadata(sub(reader));
    else {
      kind = ({ 3: 'old-style histogram(s)', 4: 'image(s)', 5: 'histogram(s)', 6: 'audio clip(s)' } as Record<number, string>)[field] ?? kind;
      reader.skip(wire, field);
    }
  }
  if (reader.pos > end) throw new RangeError('value runs past its summary');
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

