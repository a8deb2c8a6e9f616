import { describe, expect, it } from 'vitest';
import { ConfigError, parseFleetConfig } from '../../lib/config';
import { rotationCronExpression, rotationSlots, rotationWindow } from '../../lib/config/token-rotation';

const ACCESS = 'gitlab-runner-fleet/access-token';

function fleet(name: string, extra: Record<string, unknown> = {}, rotation: unknown = {}): Record<string, unknown> {
  // rotation null: no rotation key at all
  return {
    name,
    computeType: 'spot',
    instanceTypes: ['m7g.large'],
    capacity: { max: 4 },
    gitlabRunner: { scope: 'group', group: 5, accessTokenSecretName: ACCESS, ...(rotation === null ? {} : { rotation }) },
    ...extra,
  };
}

function config(...fleets: Array<Record<string, unknown>>): Record<string, unknown> {
  return { gitlab: { url: 'https://gitlab.example.com' }, fleets };
}

function problemsOf(raw: unknown): string[] {
  try {
    parseFleetConfig(raw, 'test.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error('expected the config to be rejected');
}

describe('gitlabRunner.rotation: scheduled token rotation in the config', () => {
  it('is off when the key is left out', () => {
    const spec = parseFleetConfig(config(fleet('quiet', {}, null))).fleets[0];

    expect(spec.managedRunner?.rotation).toBeUndefined();
  });

  it('defaults to every 3 months, enabled, in the night window 01:00-05:00 UTC', () => {
    const rotation = parseFleetConfig(config(fleet('rotating'))).fleets[0].managedRunner?.rotation;

    expect(rotation).toMatchObject({ enabled: true, everyMonths: 3, timeZone: 'UTC', window: '01:00-05:00' });
    expect(rotation?.slot.hour).toBeGreaterThanOrEqual(1);
    expect(rotation?.slot.hour).toBeLessThan(5);
    expect(rotation?.slot.minute).not.toBe(0);
    expect(rotation?.slot.day).toBeGreaterThanOrEqual(1);
    expect(rotation?.slot.day).toBeLessThanOrEqual(28);
    expect(rotation?.slot.month).toBeGreaterThanOrEqual(1);
    expect(rotation?.slot.month).toBeLessThanOrEqual(3);
  });

  it("reads the window in the fleet schedule's time zone unless the rotation names its own", () => {
    const schedule = { timeZone: 'Europe/Berlin', windows: [{ days: 'mon-fri', start: '07:00', end: '19:00', desired: 2 }] };
    const [inherited, own] = parseFleetConfig(
      config(fleet('inherits', { schedule }), fleet('own-zone', { schedule }, { timeZone: 'America/New_York' })),
    ).fleets;

    expect(inherited.managedRunner?.rotation?.timeZone).toBe('Europe/Berlin');
    expect(own.managedRunner?.rotation?.timeZone).toBe('America/New_York');
  });

  it('takes every setting as configured', () => {
    const rotation = parseFleetConfig(config(fleet('custom', {}, { enabled: false, everyMonths: 12, window: '22:30-23:15' }))).fleets[0]
      .managedRunner?.rotation;

    expect(rotation).toMatchObject({ enabled: false, everyMonths: 12, window: '22:30-23:15' });
    expect(rotation!.slot.hour * 60 + rotation!.slot.minute).toBeGreaterThanOrEqual(22 * 60 + 30);
    expect(rotation!.slot.hour * 60 + rotation!.slot.minute).toBeLessThan(23 * 60 + 15);
  });

  it('rejects an interval that does not divide a year, a bad zone and a bad window, all at once with their paths', () => {
    const problems = problemsOf(
      config(
        fleet('fa', {}, { everyMonths: 5 }),
        fleet('fb', {}, { timeZone: 'Mars/Olympus' }),
        fleet('fc', {}, { window: '25:00-03:00' }),
      ),
    );

    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^fleets\[0\]\.gitlabRunner\.rotation\.everyMonths: 5 is not allowed; allowed: 1, 2, 3, 4, 6, 12/),
        expect.stringMatching(/^fleets\[1\]\.gitlabRunner\.rotation\.timeZone: "Mars\/Olympus" is not an IANA time zone/),
        expect.stringMatching(/^fleets\[2\]\.gitlabRunner\.rotation\.window: "25:00-03:00" is not a time span/),
      ]),
    );
  });

  it('rejects a window that is not HH:MM-HH:MM, or whose ends are equal', () => {
    expect(problemsOf(config(fleet('fa', {}, { window: 'nightly' })))).toEqual([
      expect.stringMatching(/^fleets\[0\]\.gitlabRunner\.rotation\.window: "nightly" must be HH:MM-HH:MM/),
    ]);
    expect(problemsOf(config(fleet('fa', {}, { window: '03:00-03:00' })))).toEqual([
      expect.stringMatching(/^fleets\[0\]\.gitlabRunner\.rotation\.window: .*distinct ends/),
    ]);
  });

  it('rejects unknown keys under rotation', () => {
    expect(problemsOf(config(fleet('fa', {}, { every: '90d' })))).toEqual([expect.stringMatching(/^fleets\[0\]\.gitlabRunner\.rotation/)]);
  });
});

describe('rotation slots (seed 000: off round minutes, spread over fleets)', () => {
  const request = (fleetName: string, window = '01:00-05:00', timeZone = 'UTC') => ({ fleetName, everyMonths: 3, timeZone, window });

  it('is the same for the same fleet name on every synth', () => {
    expect(rotationSlots([request('alpha')])).toEqual(rotationSlots([request('alpha')]));
  });

  it('gives 200 fleets of one config 200 distinct day-and-minute instants, none on :00', () => {
    const names = Array.from({ length: 200 }, (_, i) => `fleet-${i}`);
    const slots = rotationSlots(names.map((n) => request(n)));

    const instants = new Set([...slots.values()].map((s) => `${s.day} ${s.hour}:${s.minute}`));
    expect(instants.size).toBe(200);
    expect([...slots.values()].every((s) => s.minute !== 0 && s.hour >= 1 && s.hour < 5)).toBe(true);
  });

  it('moves a fleet whose derived slot is taken to the next day, same minute', () => {
    // A two-minute window with a :00 in it: every fleet gets 01:59, so they must differ by day.
    const slots = rotationSlots([request('one', '01:59-02:01'), request('two', '01:59-02:01'), request('three', '01:59-02:01')]);

    expect([...slots.values()].map((s) => `${s.hour}:${s.minute}`)).toEqual(['1:59', '1:59', '1:59']);
    expect(new Set([...slots.values()].map((s) => s.day)).size).toBe(3);
  });

  it('shares a slot only when the window has no free one left', () => {
    const names = Array.from({ length: 29 }, (_, i) => `f${i}`);
    const slots = rotationSlots(names.map((n) => request(n, '01:59-02:01')));

    expect(new Set([...slots.values()].map((s) => s.day)).size).toBe(28);
  });

  it('does not count fleets in other time zones as taking a slot', () => {
    const utc = rotationSlots([request('same')]).get('same');
    const both = rotationSlots([request('other', '01:00-05:00', 'Asia/Tokyo'), request('same')]);

    expect(both.get('same')).toEqual(utc);
  });

  it('crosses midnight in a window that ends after it', () => {
    expect(rotationWindow('23:00-01:00')).toEqual({ start: 23 * 60, length: 120 });
    const slot = rotationSlots([request('late', '23:00-01:00')]).get('late')!;
    expect(slot.hour === 23 || slot.hour === 0).toBe(true);
  });

  it('refuses a window it cannot read', () => {
    expect(rotationWindow('24:00-01:00')).toBeUndefined();
    expect(rotationWindow('01:00')).toBeUndefined();
    expect(() => rotationSlots([request('x', 'soon')])).toThrow(/rotation window "soon" of fleet x/);
  });

  it('writes a cron expression with the month field stepping from the fleet month', () => {
    expect(rotationCronExpression({ month: 2, day: 17, hour: 3, minute: 41 }, 3)).toBe('cron(41 3 17 2/3 ? *)');
    expect(rotationCronExpression({ month: 1, day: 9, hour: 1, minute: 7 }, 1)).toBe('cron(7 1 9 * ? *)');
  });
});
