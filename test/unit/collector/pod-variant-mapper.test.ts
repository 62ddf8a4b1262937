import { describe, expect, it } from 'vitest';
import { DeploymentPrefixMapper } from '../../../src/collector/pod-variant-mapper.js';

const model = {
  namespace: 'ns',
  modelID: 'm',
  retentionMs: 600_000,
  deployments: [
    { variantKey: 'ns/llama', deployment: 'llama' },
    { variantKey: 'ns/llama-h100', deployment: 'llama-h100' },
  ],
};

describe('DeploymentPrefixMapper', () => {
  const mapper = new DeploymentPrefixMapper();
  it('picks the longest Deployment name prefix followed by a dash', () => {
    expect(mapper.variantOf('ns', 'llama-h100-7d9f8c6b5d-abcde', model)).toBe('ns/llama-h100');
    expect(mapper.variantOf('ns', 'llama-5d8f9c7b6d-xyz12', model)).toBe('ns/llama');
  });
  it('does not match a prefix without the dash, or an unknown pod', () => {
    expect(mapper.variantOf('ns', 'llamax-1', model)).toBeUndefined();
    expect(mapper.variantOf('ns', 'llama', model)).toBeUndefined();
    expect(mapper.variantOf('ns', '127.0.0.1:8000', model)).toBeUndefined();
  });
});
