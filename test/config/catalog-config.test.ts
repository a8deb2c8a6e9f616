import { describe, expect, it } from 'vitest';
import { ConfigError, loadFleetConfig, parseFleetConfig } from '../../lib/config';
import { CATALOG_EXAMPLE } from '../support/catalog-helpers';

const base = {
  gitlab: { url: 'https://gitlab.example.com' },
  fleets: [{ name: 'builds', computeType: 'spot', instanceTypes: ['m7g.large'], capacity: { max: 2 } }],
};
const catalog = {
  assetBucketName: 'example-catalog-assets',
  principals: { roleArns: ['arn:aws:iam::123456789012:role/Developers'] },
  products: { 'graviton-spot': {} },
};

function problems(raw: unknown): string[] {
  try {
    parseFleetConfig(raw);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
  return [];
}

describe('catalog config', () => {
  it('loads examples/catalog.yaml with all four products', () => {
    expect(Object.keys(loadFleetConfig(CATALOG_EXAMPLE).catalog!.products)).toEqual([
      'graviton-spot',
      'graviton-on-demand',
      'graviton-spot-floor',
      'x86-on-demand',
    ]);
  });

  it('fills in product defaults: every size, at most 10 instances', () => {
    expect(parseFleetConfig({ ...base, catalog }).catalog!.products['graviton-spot']).toEqual({
      allowedSizes: ['small', 'medium', 'large'],
      maxInstances: 10,
    });
  });

  it('has no catalog without the section', () => {
    expect(parseFleetConfig(base).catalog).toBeUndefined();
  });

  it('names an unknown product and lists the known ones', () => {
    expect(problems({ ...base, catalog: { ...catalog, products: { 'gpu-spot': {} } } })).toEqual([
      'catalog.products.gpu-spot: unknown key; allowed here: graviton-spot, graviton-on-demand, graviton-spot-floor, x86-on-demand',
    ]);
  });

  it('requires at least one principal and at least one product, in one pass', () => {
    expect(problems({ ...base, catalog: { ...catalog, principals: {}, products: {} } })).toEqual([
      'catalog.principals: must grant the portfolio to at least one role: list roleArns or roleNamePatterns',
      'catalog.products: must offer at least one product: graviton-spot, graviton-on-demand, graviton-spot-floor, x86-on-demand',
    ]);
  });

  it('rejects a size, a limit and an account id it does not know, naming each field', () => {
    expect(
      problems({
        ...base,
        catalog: {
          ...catalog,
          sharing: { accounts: ['12345'] },
          products: { 'graviton-spot': { allowedSizes: ['huge'], maxInstances: 500 } },
        },
      }),
    ).toEqual([
      'catalog.products.graviton-spot.allowedSizes[0]: "huge" is not allowed; allowed: "small", "medium", "large"',
      'catalog.products.graviton-spot.maxInstances: 500 must be at most 50',
      'catalog.sharing.accounts[0]: "12345" must be a 12-digit AWS account id',
    ]);
  });

  it('asks for role name patterns when sharing with an OU (principal sharing carries only patterns)', () => {
    expect(problems({ ...base, catalog: { ...catalog, sharing: { organizationalUnits: ['ou-ab12-cd34ef56'] } } })).toEqual([
      'catalog.sharing.organizationalUnits: principal sharing only carries role name patterns to member accounts; list catalog.principals.roleNamePatterns',
    ]);
  });

  it('requires the asset bucket name', () => {
    const { assetBucketName: _omitted, ...withoutBucket } = catalog;
    expect(problems({ ...base, catalog: withoutBucket })).toEqual(['catalog.assetBucketName: is required (a string)']);
  });
});
