import * as protoLoader from '@grpc/proto-loader';
import descriptor from 'protobufjs/ext/descriptor/index.js';
import { describe, expect, it } from 'vitest';
import { mapEntryName, withStrictMapEntries } from '../../../src/grpc/reflection-descriptors.js';
import { EXTERNAL_SCALER_PROTO, PROTO_LOADER_OPTIONS } from '../../../src/grpc/proto.js';

interface Msg {
  name: string;
  field: { name: string; typeName?: string }[];
  nestedType: Msg[];
}

function scaledObjectRef(protos: Buffer[]): Msg | undefined {
  for (const b of protos) {
    const file = descriptor.FileDescriptorProto.decode(b) as unknown as { messageType: Msg[] };
    const m = file.messageType.find((x) => x.name === 'ScaledObjectRef');
    if (m) return m;
  }
  return undefined;
}

describe('reflection descriptors', () => {
  it.each([
    ['scalerMetadata', 'ScalerMetadataEntry'],
    ['scaler_metadata', 'ScalerMetadataEntry'],
    ['labels', 'LabelsEntry'],
  ])('names the entry of map field %s as protoc does: %s', (field, entry) => {
    expect(mapEntryName(field)).toBe(entry);
  });

  it('serves scalerMetadata as a map whose entry is ScalerMetadataEntry (grpcurl refuses anything else)', () => {
    const def = protoLoader.loadSync(EXTERNAL_SCALER_PROTO, PROTO_LOADER_OPTIONS);
    const protos = (def['externalscaler.ScaledObjectRef'] as unknown as { fileDescriptorProtos: Buffer[] })
      .fileDescriptorProtos;
    // What protobufjs produces on its own: the entry named after the field.
    expect(scaledObjectRef(protos)?.nestedType.map((n) => n.name)).toEqual(['ScalerMetadata']);
    const fixed = withStrictMapEntries(def);
    const msg = scaledObjectRef(
      (fixed['externalscaler.ScaledObjectRef'] as unknown as { fileDescriptorProtos: Buffer[] }).fileDescriptorProtos,
    );
    expect(msg?.nestedType.map((n) => n.name)).toEqual(['ScalerMetadataEntry']);
    expect(msg?.field.find((f) => f.name === 'scalerMetadata')?.typeName).toBe('ScalerMetadataEntry');
  });
});
