/**
 * The events a unit of a rollout records when a shared deadline passes it by, as the workflows emit
 * them (UnitEnrolled, DeadlineMissed, Escalated), for the append benchmarks. Pure: the same rows go to
 * `appendEvents` and to the raw INSERT they are compared with.
 */
import type { AnyNewEvent } from '../domain/events';
import { escalationId, eventId, streams } from '../domain/ids';

/** The unit codes of a province → communes → cells tree, as bench hierarchies name them, root first. */
export function treeCodes(communes: number, cells: number): string[] {
  const codes = ['T'];
  for (let c = 1; c <= communes; c++) {
    codes.push(`T.X${c}`);
    for (let k = 1; k <= cells; k++) codes.push(`T.X${c}.C${k}`);
  }
  return codes;
}

const PROVINCE = { code: 'T', name: 'Đảng bộ tỉnh Thử Nghiệm', level: 'tinh', standingCommittee: true };

/** A unit's three events in its own stream, `unit/<rolloutId>/<code>`, numbered 1–3 (any code shape; the parent is read off the dots). */
export function unitEvents(rolloutId: string, code: string, at: Date): AnyNewEvent[] {
  const streamId = streams.unit(rolloutId, code);
  const parts = code.split('.');
  const parent = parts.length > 1 ? parts.slice(0, -1).join('.') : null;
  const level = parts.length === 1 ? 'tinh' : parts.length === 2 ? 'xa' : 'chibo';
  const ancestors = parts.slice(0, -1).map((_, i) => (i === 0 ? PROVINCE : { code: parts.slice(0, i + 1).join('.'), name: `Đảng bộ xã ${parts[i]}`, level: 'xa', standingCommittee: true }));
  const dueAt = new Date(at.getTime() - 1000).toISOString();
  const iso = at.toISOString();
  const envelope = (seq: number) => ({ eventId: eventId(streamId, seq), streamId, streamSeq: seq, rolloutId, unitCode: code, actor: 'system', occurredAt: iso });
  const recipient = ancestors[ancestors.length - 1] ?? PROVINCE;
  return [
    {
      ...envelope(1),
      type: 'UnitEnrolled',
      payload: {
        unit: { code, name: `Chi bộ ${code}`, level, parent, members: 30, standingCommittee: level !== 'chibo' },
        ancestors,
        steps: [{ key: 'study', stepId: 'study', kind: 'studyConference', occurrence: 0, status: 'open', dueAt }],
        children: level === 'chibo' ? 0 : 29,
      },
    },
    { ...envelope(2), type: 'DeadlineMissed', payload: { key: 'study', dueAt, waitingForParent: false } },
    {
      ...envelope(3),
      type: 'Escalated',
      payload: {
        key: 'study',
        escalationId: escalationId({ rolloutId, unitCode: code, stepKey: 'study', dueAt: at.getTime() - 1000, tier: 1 }),
        tier: 1,
        recipient,
        self: recipient.code === code,
        dueAt,
      },
    },
  ];
}

/** Every unit's events, unit by unit. */
export function rolloutEvents(rolloutId: string, codes: ReadonlyArray<string>, at = new Date()): AnyNewEvent[] {
  return codes.flatMap((c) => unitEvents(rolloutId, c, at));
}
