/**
 * The database schema as kysely sees it. Three groups of tables:
 * - `events`: the append-only audit record (the source of truth);
 * - `hierarchy_*`: imported hierarchy versions (reference data; a rollout pins one version);
 * - the read model (`rollouts`, `rollout_units`, `unit_steps`, `escalations`), derived from events by
 *   `projection.ts` in the same transaction as each append.
 */
import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json<T = unknown> = ColumnType<T, string, string>;

export interface EventsTable {
  position: Generated<string>;
  event_id: string;
  stream_id: string;
  stream_seq: number;
  type: string;
  rollout_id: string | null;
  unit_code: string | null;
  actor: string;
  occurred_at: Timestamp;
  /** Set by the append (the database clock) so that version-2 links can hash it as stored. */
  recorded_at: ColumnType<Date, Date | string | undefined, Date | string>;
  payload: Json;
  content_hash: string;
  /** Gapless position in the hash chain over the whole log; null until the sequencer links the event (db/sequencer.ts). */
  chain_seq: string | null;
  prev_hash: string | null;
  hash: string | null;
  /** 1: the link covers chain_seq and content_hash; 2: also occurred_at and recorded_at (db/migrations/…0010). */
  hash_version: number;
}

export interface ChainHeadTable {
  id: Generated<boolean>;
  seq: string;
  hash: string;
}
export type EventRow = Selectable<EventsTable>;
export type NewEventRow = Insertable<EventsTable>;

export interface HierarchyVersionsTable {
  version: Generated<number>;
  imported_at: Generated<Date>;
  source: string;
  sha256: string;
  units: number;
  imported_by: string;
  /** The organisation (root unit code); null only for a version imported before organisations were separate that holds several roots. */
  organisation: string | null;
  kind: ColumnType<'snapshot' | 'delta' | 'change', 'snapshot' | 'delta' | 'change' | undefined, never>;
  /** The organisation's latest version this one was made from (null for a first import or a whole snapshot with none before). */
  previous_version: number | null;
  effective_from: ColumnType<string | null, string | null | undefined, never>;
}

export interface HierarchyUnitsTable {
  version: number;
  code: string;
  name: string;
  level: string;
  parent: string | null;
  members: number;
  standing_committee: boolean;
  effective_from: string | null;
  predecessors: string[];
  /** Position among siblings (by code), so children can be paged stably. */
  sibling_index: number;
  /** The unit's root: the organisation it belongs to in this version. */
  organisation: string;
}

/** What became of a code (domain/hierarchy-changes.ts LineageEdge), with when and in which version. */
export interface UnitLineageTable {
  id: Generated<string>;
  organisation: string;
  from_code: string | null;
  to_code: string | null;
  kind: 'merged' | 'split' | 'renamed' | 'moved' | 'dissolved' | 'created';
  effective_from: ColumnType<string | null, string | null | undefined, never>;
  version: number;
}

export interface RolloutsTable {
  rollout_id: string;
  resolution_text: string;
  resolution_date: string;
  resolution_title: string;
  plan_id: string;
  /** The plan the rollout runs now (amended: the latest version); units enrolled from now on get it. */
  plan: Json;
  /** 1 as started; one more per RolloutAmended. */
  plan_version: ColumnType<number, number | undefined, number>;
  /** SHA-256 of the plan's canonical JSON (null for rollouts started before plans were versioned). */
  plan_hash: ColumnType<string | null, string | null | undefined, string | null>;
  root_unit: string;
  hierarchy_version: number;
  /** Units in the pinned subtree (null for rollouts recorded before it was kept). */
  units: number | null;
  requested_by: string;
  status: 'running' | 'completed' | 'cancelled';
  started_at: Timestamp;
  completed_at: Timestamp | null;
}

export interface RolloutUnitsTable {
  rollout_id: string;
  unit_code: string;
  name: string;
  level: string;
  parent_code: string | null;
  members: number;
  standing_committee: boolean;
  depth: number;
  ancestors: Json<Array<{ code: string; name: string; level: string; standingCommittee: boolean }>>;
  children: number;
  /** merged / dissolved: the unit's record ended by a change of the hierarchy (UnitMerged, UnitDissolved). */
  status: 'active' | 'completed' | 'cancelled' | 'merged' | 'dissolved';
  enrolled_at: Timestamp;
  completed_at: Timestamp | null;
  /** The unit's deadline clock is stopped since then (ClockSuspended), until it resumes. */
  suspended_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface UnitStepsTable {
  rollout_id: string;
  unit_code: string;
  step_key: string;
  step_id: string;
  kind: string;
  occurrence: number;
  status: 'waiting' | 'open' | 'done' | 'cancelled';
  due_at: Timestamp | null;
  original_due_at: Timestamp | null;
  opened_at: Timestamp | null;
  completed_at: Timestamp | null;
  late_by_ms: string | null;
  attended: Generated<number>;
  reminders_sent: Generated<number>;
  missed: Generated<boolean>;
  extensions: Generated<number>;
  document_text: string | null;
  document_date: string | null;
  last_report_at: Timestamp | null;
  last_report: Json | null;
}

export interface EscalationsTable {
  escalation_id: string;
  rollout_id: string;
  unit_code: string;
  step_key: string;
  tier: number;
  recipient_code: string;
  recipient_name: string;
  self: boolean;
  due_at: Timestamp;
  opened_at: Timestamp;
  status: 'open' | 'resolved';
  resolution: 'completed' | 'extended' | 'cancelled' | 'amended' | 'merged' | 'dissolved' | null;
  resolved_at: Timestamp | null;
  resolved_by: string | null;
  late_by_ms: string | null;
  acknowledged_at: Timestamp | null;
  acknowledged_by: string | null;
  acknowledgement_note: string | null;
  directives: Generated<number>;
  last_directive: string | null;
  last_directed_at: Timestamp | null;
  respond_by: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface RolloutProgressTable {
  rollout_id: string;
  level: string;
  step_id: string;
  /** One of PROGRESS_SLOTS rows per level and step, chosen by the unit's code, so units enrolling together do not wait on one row; reads add them up. */
  slot: Generated<number>;
  kind: string;
  depth: number;
  units: Generated<number>;
  waiting: Generated<number>;
  open: Generated<number>;
  done: Generated<number>;
  done_late: Generated<number>;
  attended: ColumnType<string, string | number | undefined, string | number>;
  members: ColumnType<string, string | number | undefined, string | number>;
}

export interface CheckpointsTable {
  id: Generated<string>;
  seq: string;
  body: Json;
  recorded_at: Generated<Date>;
}

export interface ApiTokensTable {
  token_id: string;
  token_hash: string;
  role: 'ops' | 'unit' | 'committee' | 'inspector' | 'auditor';
  unit_code: string | null;
  label: string;
  created_by: string;
  created_at: Generated<Date>;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

/** Who a unit's notifications go to (per unit code, across hierarchy versions). */
export interface UnitContactsTable {
  unit_code: string;
  channel: 'email' | 'webhook';
  address: string;
  name: string;
  created_at: Generated<Date>;
}

/** A notification to deliver, written in the same transaction as its event (notify/outbox.ts). */
export interface NotificationOutboxTable {
  notification_id: Generated<string>;
  event_id: string;
  event_type: string;
  rollout_id: string | null;
  /** The unit the event is about. */
  unit_code: string | null;
  /** The unit told (its contacts): see notify/recipients.ts. */
  recipient_unit: string;
  channel: 'email' | 'webhook';
  address: string;
  idempotency_key: string;
  payload: Json;
  status: Generated<'pending' | 'delivered' | 'failed'>;
  attempts: Generated<number>;
  next_attempt_at: ColumnType<Date, Date | string | undefined, Date | string>;
  last_error: string | null;
  last_attempt_at: Timestamp | null;
  delivered_at: Timestamp | null;
  created_at: Generated<Date>;
}

/** A batch as confirmed (domain/batches.ts): its working state; the audit record has BatchStarted/Completed. */
export interface BatchesTable {
  batch_id: string;
  rollout_id: string;
  action: string;
  params: Json<Record<string, unknown>>;
  filter: Json<Record<string, unknown>>;
  committee: string | null;
  decided_by: string;
  reason: string;
  fingerprint: string;
  units: number;
  status: Generated<'running' | 'completed'>;
  created_at: Generated<Date>;
  completed_at: Timestamp | null;
}

/** One unit of a batch and what it answered. */
export interface BatchItemsTable {
  batch_id: string;
  seq: number;
  unit_code: string;
  /** This unit's own change, when a batch's units get different ones (null: the batch's action). */
  input: Json<Record<string, unknown> | null> | null;
  status: Generated<'pending' | 'done' | 'unchanged' | 'refused'>;
  message: string | null;
  result: Json | null;
  updated_at: Timestamp | null;
}

/** One version of a holiday calendar (db/calendars.ts): reference data, append-only. */
export interface CalendarVersionsTable {
  calendar_id: string;
  version: number;
  /** The normalised CalendarFile (domain/calendar.ts), its `version` the row's. */
  content: Json;
  sha256: string;
  years: number[];
  provisional_years: number[];
  source: string;
  imported_by: string;
  imported_at: Generated<Date>;
}

export interface Database {
  events: EventsTable;
  hierarchy_versions: HierarchyVersionsTable;
  hierarchy_units: HierarchyUnitsTable;
  unit_lineage: UnitLineageTable;
  rollouts: RolloutsTable;
  rollout_units: RolloutUnitsTable;
  unit_steps: UnitStepsTable;
  escalations: EscalationsTable;
  rollout_progress: RolloutProgressTable;
  chain_head: ChainHeadTable;
  checkpoints: CheckpointsTable;
  api_tokens: ApiTokensTable;
  unit_contacts: UnitContactsTable;
  notification_outbox: NotificationOutboxTable;
  batches: BatchesTable;
  batch_items: BatchItemsTable;
  calendar_versions: CalendarVersionsTable;
}
