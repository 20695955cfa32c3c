/**
 * The activities' contract, declared on the workflow side: the names, inputs and outputs that
 * workflows call through `proxyActivities`. Workflows import only this file, never `activities/`
 * (the implementations): even a type import of the implementation module pulls its imports (pg,
 * kysely, the database schema) into the workflows' type graph, and the lint rule that keeps
 * `workflows/` deterministic refuses it. `activities/index.ts` builds an object that `satisfies`
 * this interface, so the compiler still checks that both sides match.
 */
import type { NewEvent } from '../domain/events';
import type { UnitContext } from './unit-state';

export interface AppendEventsInput {
  /** In stream order; IDs derived from the workflow make a retry harmless. */
  events: NewEvent[];
}

export interface AppendEventsResult {
  appended: number;
  /** Events already recorded with the same ID and content (a retried append). */
  duplicates: number;
}

export interface UnitRefInput {
  rolloutId: string;
  unitCode: string;
}

export interface ListChildrenInput extends UnitRefInput {
  offset: number;
  limit: number;
}

export interface ListChildrenResult {
  codes: string[];
}

export interface BatchSliceInput {
  batchId: string;
  /** Units to apply in this call. */
  size: number;
}

/** How many of a batch's units stand at each status. */
export interface BatchCounts {
  pending: number;
  done: number;
  unchanged: number;
  refused: number;
}

export interface BatchSliceResult {
  /** Every unit has answered and BatchCompleted is recorded. */
  finished: boolean;
  counts: BatchCounts;
}

/** Every activity a workflow may call: one object in, one object out. */
export interface ActivityContract {
  /** Append a workflow's events (in stream order) and project them into the read model. */
  appendEvents(input: AppendEventsInput): Promise<AppendEventsResult>;
  /** Everything a unit workflow needs to know about its unit, from the rollout's pinned hierarchy. */
  loadUnitContext(input: UnitRefInput): Promise<UnitContext>;
  /** A page of a unit's children in the pinned hierarchy. */
  listChildren(input: ListChildrenInput): Promise<ListChildrenResult>;
  /** Apply the next pending units of a batch (app/batches.ts runBatchSlice). */
  runBatchSlice(input: BatchSliceInput): Promise<BatchSliceResult>;
}
