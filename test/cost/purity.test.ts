import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const DIR = join('lib', 'cost');
const files = readdirSync(DIR).filter((f) => f.endsWith('.ts'));
/** Imports that load a module at run time (type-only imports are erased). */
const valueImports = (source: string) => [...source.matchAll(/^import (?!type )[^;]*? from '([^']+)';/gms)].map((m) => m[1]);

describe('lib/cost stays pure', () => {
  it.each(files)('%s imports neither aws-cdk-lib nor the AWS SDK at load time', (file) => {
    const imports = valueImports(readFileSync(join(DIR, file), 'utf8'));
    expect(imports.filter((m) => /^(aws-cdk-lib|constructs|@aws-sdk\/)/.test(m))).toEqual([]);
  });

  it('reaches the AWS SDK only by dynamic import, in the live price source', () => {
    const withSdk = files.filter((file) => /import\('@aws-sdk\//.test(readFileSync(join(DIR, file), 'utf8')));
    expect(withSdk).toEqual(['live-prices.ts']);
  });
});
