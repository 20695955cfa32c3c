/**
 * Which event notifies which unit: the one rule, in one place. The unit named here is told through
 * its contacts (unit_contacts); an event type not listed notifies nobody.
 *
 * Adding a case is one line, e.g. `SomeEvent: (e) => e.unitCode,`. Events that notify nobody on
 * purpose (an acknowledgement the committee itself made, reports, enrolment …) are simply absent.
 */
import type { AnyNewEvent, EventType, NewEvent } from '../domain/events';

type RecipientRules = { [T in EventType]?: (e: NewEvent<T>) => string | null };

export const RECIPIENT_RULES: RecipientRules = {
  /** The unit whose deadline is near (the workflow names it: the unit itself). */
  ReminderSent: (e) => e.payload.recipient,
  /** The standing committee the overdue unit is escalated to. */
  Escalated: (e) => e.payload.recipient.code,
  /** The unit whose deadline moved. */
  DeadlineExtended: (e) => e.unitCode,
  /** The unit the committee directs (chỉ đạo). */
  EscalationDirected: (e) => e.unitCode,
  /** Every unit of a cancelled rollout that was still running: it stops, nothing more is due. */
  UnitCancelled: (e) => e.unitCode,
};

/** The unit an event notifies, or null for none. */
export function recipientOf(e: AnyNewEvent): string | null {
  const rule = RECIPIENT_RULES[e.type] as ((e: AnyNewEvent) => string | null) | undefined;
  return rule ? rule(e) : null;
}

/** The event types that notify someone (for documentation and filters). */
export const NOTIFYING_EVENT_TYPES = Object.keys(RECIPIENT_RULES) as EventType[];
