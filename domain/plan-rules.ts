/**
 * How a validated plan is read: which steps apply to a level, what a step waits for, its target.
 * No schemas here (they live in plan.ts), so workflow code can use these without building them.
 */
import { DOCUMENT_TYPES } from './documents';
import type { PlanStep, StepKind } from './plan';

/** Does a step apply to units of this level? */
export function stepAppliesTo(step: PlanStep, level: string): boolean {
  return step.levels === undefined || step.levels.includes(level);
}

/** The parent step kind a step waits for (the cascade), if any. */
export function cascadeKindOf(step: PlanStep): StepKind | undefined {
  return step.opensAfterParent ?? (step.deadline.kind === 'afterParentStep' ? step.deadline.stepKind : undefined);
}

/** Study target as a ratio, default 100%. */
export function studyTarget(step: PlanStep): number {
  return step.target ?? 1;
}

/** Accepted document types for a step that is completed by a document. */
export function acceptedDocumentTypes(step: PlanStep): string[] {
  if (step.documentTypes) return step.documentTypes;
  if (step.kind === 'issuePlan') return ['KH', 'CTr', 'CTHĐ'];
  if (step.kind === 'review') return ['BC'];
  return Object.keys(DOCUMENT_TYPES);
}

/** How many occurrences a step has (1 unless it recurs). */
export function occurrenceCount(step: PlanStep): number {
  return step.schedule?.count ?? 1;
}
