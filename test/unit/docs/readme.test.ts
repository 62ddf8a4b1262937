import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SETTING_SPECS } from '../../../src/config/settings.js';
import { METADATA_KEYS } from '../../../src/config/trigger-metadata.js';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it.each(Object.entries(SETTING_SPECS))(
    'documents %s with its default, its range and what empty means',
    (name, spec) => {
      const row = readme.split('\n').find((l) => l.startsWith(`| \`${name}\` |`));
      expect(row, `README settings table has no row for ${name}`).toBeDefined();
      expect(row).toContain(spec.default === '' ? '| — | ' : `| \`${spec.default}\` | `);
      expect(row).toContain(
        `| ${spec.parser.expected.replace(/\|/g, '\\|')} | ${spec.default === '' ? 'unset' : 'default'} |`,
      );
    },
  );

  it('documents every trigger metadata key', () => {
    for (const key of Object.keys(METADATA_KEYS)) expect(readme).toContain(key);
  });

  it('has exactly the two quick-start commands', () => {
    const quick = readme.split('## Quick start')[1]?.split('```sh')[1]?.split('```')[0] ?? '';
    const commands = quick
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => l.split('#')[0]?.trim());
    expect(commands).toEqual(['npm ci && npm run demo', 'npm ci && npm test']);
  });
});
