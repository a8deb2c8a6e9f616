import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findTemplates } from '../../scripts/ci/common';
import { FORM_END, FORM_START, renderCatalogForms, renderProductForm } from '../../scripts/catalog-form';
import { CATALOG_EXAMPLE, synthCatalog } from '../support/catalog-helpers';

/** Markdown tables compared without the column padding prettier adds. */
const normalize = (text: string) =>
  text
    .split('\n')
    .map((line) => line.replace(/-{3,}/g, '---').replace(/\s+/g, ' ').trim())
    .filter((line) => line !== '')
    .join('\n');

describe('catalog docs and CI gates', () => {
  it('docs/catalog.md holds the current product forms (npm run docs:catalog)', () => {
    const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'catalog.md'), 'utf8');
    const committed = doc.slice(doc.indexOf(FORM_START), doc.indexOf(FORM_END) + FORM_END.length);
    expect(normalize(committed)).toBe(normalize(renderCatalogForms(CATALOG_EXAMPLE)));
  });

  it('renders a form group as a table row per field, with its label, default and allowed values', () => {
    const text = renderProductForm('P', {
      Parameters: { Size: { Type: 'String', Default: 'small', AllowedValues: ['small', 'large'], Description: 'How big' } },
      Metadata: {
        'AWS::CloudFormation::Interface': {
          ParameterGroups: [{ Label: { default: 'Capacity' }, Parameters: ['Size'] }],
          ParameterLabels: { Size: { default: 'Instance size' } },
        },
      },
    });
    expect(text).toContain('**Capacity**');
    expect(text).toContain('| Instance size | `small` | small, large | How big |');
  });

  it('the template gates (cfn-lint, checkov) find the product templates in the cloud assembly', () => {
    const { outdir, stacks } = synthCatalog();
    const found = findTemplates(outdir).map((file) => basename(file));
    const products = [stacks.catalog!.platformProductStack, ...Object.values(stacks.catalog!.productStacks)].map((s) => s.templateFile);
    expect(products).toHaveLength(5);
    for (const file of products) expect(found).toContain(file);
  });
});
