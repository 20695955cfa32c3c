/** Events for the audit-record tests, built the one way the engine builds them (domain/ids.ts). */
import type { AnyNewEvent } from '../../domain/events';
import { eventId, streams } from '../../domain/ids';

/** The n-th event of unit U of rollout R: a reminder, unique by its offset and minute. */
export const reminderEvent = (n: number): AnyNewEvent => ({
  eventId: eventId(streams.unit('R', 'U'), n),
  streamId: streams.unit('R', 'U'),
  streamSeq: n,
  type: 'ReminderSent',
  rolloutId: 'R',
  unitCode: 'U',
  actor: 'system',
  occurredAt: new Date(Date.UTC(2027, 0, 1, 0, n)).toISOString(),
  payload: { key: 'study', dueAt: '2027-08-31T16:59:59.999Z', offset: `P${n}D`, recipient: 'U' },
});

/** A rollout of 21-NQ/TW started at BG. */
export const rolloutStartedEvent = (rolloutId: string): AnyNewEvent => ({
  eventId: eventId(streams.rollout(rolloutId), 1),
  streamId: streams.rollout(rolloutId),
  streamSeq: 1,
  type: 'RolloutStarted',
  rolloutId,
  unitCode: null,
  actor: 'user:ops',
  occurredAt: '2027-07-22T02:00:00.000Z',
  payload: {
    rolloutId,
    resolution: { document: { text: '21-NQ/TW', issuer: 'TW', type: 'NQ', number: 21, date: '2022-06-16' }, title: 'NQ 21' },
    plan: { id: 'p' },
    planId: 'p',
    rootUnit: 'BG',
    hierarchyVersion: 1,
    requestedBy: 'user:ops',
  },
});
