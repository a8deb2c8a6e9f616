import { describe, expect, it } from 'vitest';
import { createPriceBook, mergeOverrides, overrideLayer, snapshotLayer, snapshotPriceBook } from '../../lib/cost/price-book';

describe('price lookup', () => {
  it('prefers a user override to the snapshot', () => {
    const book = snapshotPriceBook('us-east-1', { 'm6g.large': { spot: 0.0419 } });
    expect(book.price('m6g.large', 'spot')).toEqual({ usdPerHour: 0.0419, provenance: 'override (user)' });
  });

  it('keeps the snapshot for the kind an override leaves out', () =>
    expect(snapshotPriceBook('us-east-1', { 'm6g.large': { spot: 0.0419 } }).price('m6g.large', 'onDemand').usdPerHour).toBe(0.077));

  it('consults layers in order', () => {
    const book = createPriceBook({
      source: { kind: 'live', date: '2026-11-25', region: 'us-east-1', description: 'test' },
      layers: [
        overrideLayer({}, 'user'),
        { 'm7g.large': { onDemand: { usdPerHour: 0.09, provenance: 'live' } } },
        snapshotLayer('us-east-1'),
      ],
    });
    expect(book.price('m7g.large', 'onDemand').provenance).toBe('live');
    expect(book.price('m7g.large', 'spot').provenance).toMatch(/Spot Instance Advisor/);
  });

  it('merges overrides per type and kind, later sets winning', () => {
    expect(mergeOverrides({ 'm6g.large': { spot: 0.04, onDemand: 0.08 } }, { 'm6g.large': { spot: 0.03 } })).toEqual({
      'm6g.large': { spot: 0.03, onDemand: 0.08 },
    });
  });

  it('names the snapshot date and region in its source', () => {
    expect(snapshotPriceBook('eu-west-1').source).toMatchObject({ kind: 'snapshot', date: '2026-01-01', region: 'eu-west-1' });
    expect(snapshotPriceBook('eu-west-1').source.description).toMatch(/eu-west-1 m5\.large list price \$0\.107/);
  });
});
