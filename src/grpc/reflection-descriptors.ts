/**
 * File descriptors for server reflection that strict clients accept. protobufjs (under
 * proto-loader) names a map field's entry message after the field (`ScalerMetadata`), where protoc
 * and Go's protodesc require `<CamelCase field name>Entry` (`ScalerMetadataEntry`); grpcurl, built
 * on Go's protobuf, refuses the whole service otherwise ("invalid map: incorrect implicit map entry
 * name", fullstorydev/grpcurl#519). `withStrictMapEntries` renames each map entry message, and the
 * field that points at it, in every file descriptor a PackageDefinition carries.
 */
import type { PackageDefinition } from '@grpc/proto-loader';
// A CommonJS module: Node's ESM loader sees only its default export.
import descriptor from 'protobufjs/ext/descriptor/index.js';

const { FileDescriptorProto } = descriptor;

interface FieldDesc {
  name: string;
  label?: number;
  type?: number;
  typeName?: string;
}
interface MessageDesc {
  name: string;
  field?: FieldDesc[];
  nestedType?: MessageDesc[];
  options?: { mapEntry?: boolean };
}
interface FileDesc {
  messageType?: MessageDesc[];
}

const LABEL_REPEATED = 3;
const TYPE_MESSAGE = 11;

/** protoc's (and Go's strs.MapEntryName) name of a map field's entry message. */
export function mapEntryName(field: string): string {
  let out = '';
  let upper = true;
  for (const ch of field) {
    if (ch === '_') upper = true;
    else {
      out += upper ? ch.toUpperCase() : ch;
      upper = false;
    }
  }
  return `${out}Entry`;
}

function fixMessage(m: MessageDesc): void {
  const nested = m.nestedType ?? [];
  for (const f of m.field ?? []) {
    if (f.label !== LABEL_REPEATED || f.type !== TYPE_MESSAGE || !f.typeName) continue;
    const last = f.typeName.slice(f.typeName.lastIndexOf('.') + 1);
    const entry = nested.find((n) => n.options?.mapEntry === true && n.name === last);
    if (!entry) continue;
    const name = mapEntryName(f.name);
    entry.name = name;
    f.typeName = `${f.typeName.slice(0, f.typeName.length - last.length)}${name}`;
  }
  for (const n of nested) fixMessage(n);
}

/** One serialized FileDescriptorProto with its map entries named as protoc names them. */
export function strictMapEntries(serialized: Uint8Array): Buffer {
  const file = FileDescriptorProto.decode(serialized) as unknown as FileDesc;
  for (const m of file.messageType ?? []) fixMessage(m);
  return Buffer.from(
    FileDescriptorProto.encode(file as unknown as Parameters<typeof FileDescriptorProto.encode>[0]).finish(),
  );
}

/** The same definition, every file descriptor fixed (each distinct one once). */
export function withStrictMapEntries(def: PackageDefinition): PackageDefinition {
  const fixed = new Map<string, Buffer>();
  const fix = (b: Buffer): Buffer => {
    const key = b.toString('base64');
    let out = fixed.get(key);
    if (!out) fixed.set(key, (out = strictMapEntries(b)));
    return out;
  };
  const result: PackageDefinition = {};
  for (const [name, value] of Object.entries(def)) {
    const protos = (value as { fileDescriptorProtos?: Buffer[] }).fileDescriptorProtos;
    result[name] = protos ? ({ ...value, fileDescriptorProtos: protos.map(fix) } as typeof value) : value;
  }
  return result;
}
