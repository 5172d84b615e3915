import type * as SmolToml from 'smol-toml' with { 'resolution-mode': 'import' };

/**
 * smol-toml's parser. The package is an ES module whose CommonJS build is
 * reached through its `require` export; TypeScript's node16 resolution does
 * not see that build's types, so they are taken from the module's.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const smolToml = require('smol-toml') as typeof SmolToml;

export const parseToml: (text: string) => Record<string, unknown> = smolToml.parse;
