import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { instanceTypeName, isoDate, numberIn, priceOverride, regionName } from '../../lib/cli/option-parsers';

describe('--price', () => {
  it('accumulates repeated values per type and kind', () => {
    const once = priceOverride('m6g.large:spot=0.0419');
    const twice = priceOverride('m6g.large:on-demand=0.077', once);
    expect(priceOverride('m5.xlarge:on-demand=0.192', twice)).toEqual({
      'm6g.large': { spot: 0.0419, onDemand: 0.077 },
      'm5.xlarge': { onDemand: 0.192 },
    });
  });

  it('lets a later value win', () =>
    expect(priceOverride('m6g.large:spot=0.03', priceOverride('m6g.large:spot=0.05'))).toEqual({ 'm6g.large': { spot: 0.03 } }));

  it.each(['m6g.large:spot=-1', 'm6g.large:spot=free', 'large:spot=0.1', 'm6g.large:reserved=0.1', 'm6g.large'])('rejects %s', (value) => {
    expect(() => priceOverride(value)).toThrow(InvalidArgumentError);
  });
});

describe('numbers and regions', () => {
  it('accepts the upper bound and rejects the lower one', () => {
    expect(numberIn(0, 168, 'hours')('168')).toBe(168);
    expect(() => numberIn(0, 168, 'hours')('0')).toThrow('must be a number > 0 and <= 168 (hours)');
  });

  it('rejects an empty number', () => expect(() => numberIn(0, 2, 'factor')(' ')).toThrow(InvalidArgumentError));

  it.each(['us-east-1', 'eu-central-1', 'ap-southeast-2', 'us-gov-west-1'])('accepts region %s', (region) =>
    expect(regionName(region)).toBe(region),
  );

  it.each(['US-EAST-1', 'useast1', 'eu-central'])('rejects region %s', (region) =>
    expect(() => regionName(region)).toThrow('must be an AWS region name'),
  );
});

describe('instance types and dates', () => {
  it('accepts an EC2 instance type', () => expect(instanceTypeName('m7g.large')).toBe('m7g.large'));

  it('rejects a word that is not an instance type, with an example', () =>
    expect(() => instanceTypeName('huge')).toThrow('must be an EC2 instance type such as m5.xlarge or m7g.large'));

  it('accepts a real date', () => expect(isoDate('2026-03-29')).toBe('2026-03-29'));

  it.each(['2026-02-30', '2026-3-29', '29.03.2026', ''])('rejects %j, with the format', (value) =>
    expect(() => isoDate(value)).toThrow('must be a date YYYY-MM-DD, e.g. 2026-03-29'),
  );
});
