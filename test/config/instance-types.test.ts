import { describe, expect, it } from 'vitest';
import { architectureOf, parseInstanceType } from '../../lib/config/instance-types';

describe('instance type architecture', () => {
  it.each([
    'm6g.large',
    'm7g.xlarge',
    'm8g.2xlarge',
    'c7gn.large',
    'r8gd.metal',
    't4g.small',
    'im4gn.large',
    'x2gd.xlarge',
    'g5g.xlarge',
    'a1.medium',
  ])('%s is arm64 (Graviton)', (type) => expect(architectureOf(type)).toBe('arm64'));

  it.each(['m5.large', 'm5.xlarge', 'm6i.large', 'm7i.large', 'c5.large', 'c6a.2xlarge', 'g5.xlarge', 'm7i-flex.large', 't3.micro'])(
    '%s is x86_64',
    (type) => expect(architectureOf(type)).toBe('x86_64'),
  );

  it.each(['large', 'm7g', 'M7G.LARGE', 'm7g.huge', 'mac2.metal', ''])('%j is not classified', (type) =>
    expect(architectureOf(type)).toBeUndefined(),
  );

  it('parses the parts of a name', () => {
    expect(parseInstanceType('c7gn.16xlarge')).toEqual({
      name: 'c7gn.16xlarge',
      family: 'c7gn',
      series: 'c',
      generation: 7,
      attributes: 'gn',
      size: '16xlarge',
    });
  });
});
