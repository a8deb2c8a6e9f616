import { describe, expect, it } from 'vitest';
import { systemIdForInstance } from '../../lib/identity/runner-identity';
import { age, classifyManagers } from '../../lib/lambda/orphan-reaper/core';

const NOW = new Date('2026-11-25T12:00:00Z');
const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000).toISOString();
const LIVE = 'i-0aaaaaaaaaaaaaaa1';
const GONE = 'i-0bbbbbbbbbbbbbbb2';

function manager(systemId: string, createdMinutesAgo: number, contactedMinutesAgo: number | null) {
  return {
    id: 1,
    system_id: systemId,
    created_at: minutesAgo(createdMinutesAgo),
    contacted_at: contactedMinutesAgo === null ? null : minutesAgo(contactedMinutesAgo),
  };
}

function verdictOf(m: ReturnType<typeof manager>) {
  return classifyManagers({ managers: [m], existingInstanceIds: [LIVE], now: NOW, graceMinutes: 30 })[0].verdict;
}

describe('classifyManagers', () => {
  it('calls a manager without an existing instance, older than the grace and silent since, an orphan', () => {
    expect(verdictOf(manager(systemIdForInstance(GONE), 120, 90))).toBe('orphan');
  });

  it('keeps the manager of an existing instance, however old', () => {
    expect(verdictOf(manager(systemIdForInstance(LIVE), 10_000, 10_000))).toBe('live');
  });

  it('keeps a manager created within the grace period', () => {
    expect(verdictOf(manager(systemIdForInstance(GONE), 29, null))).toBe('too-young');
  });

  it('keeps a manager that contacted GitLab within the grace period', () => {
    expect(verdictOf(manager(systemIdForInstance(GONE), 600, 5))).toBe('recently-contacted');
  });

  it('calls an old manager that never contacted GitLab an orphan', () => {
    expect(verdictOf(manager(systemIdForInstance(GONE), 120, null))).toBe('orphan');
  });

  it('never touches managers whose system_id a fleet instance would not use', () => {
    expect(verdictOf(manager('r_0123456789ab', 10_000, 10_000))).toBe('foreign');
  });

  it('keeps a manager with an unreadable creation date', () => {
    const m = { ...manager(systemIdForInstance(GONE), 120, null), created_at: 'yesterday' };

    expect(verdictOf(m)).toBe('too-young');
  });

  it('explains an orphan with its age and last contact', () => {
    const [classified] = classifyManagers({
      managers: [manager(systemIdForInstance(GONE), 125, 65)],
      existingInstanceIds: [],
      now: NOW,
      graceMinutes: 30,
    });

    expect(classified.reason).toBe('no existing instance has this system_id; created 2h 5m ago, last contact 1h 5m ago');
  });
});

describe('age', () => {
  it('reads as days and hours past a day', () => {
    expect(age(NOW.getTime(), NOW.getTime() - (2 * 1440 + 180) * 60_000)).toBe('2d 3h ago');
  });
});
