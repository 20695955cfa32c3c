/**
 * Stream ids of the event log (see events.ts). Kept apart from the event schemas so that workflow
 * code can name streams without building the schemas in every workflow's sandbox.
 */
export const streams = {
  rollout: (rolloutId: string): string => `rollout/${rolloutId}`,
  unit: (rolloutId: string, unitCode: string): string => `unit/${rolloutId}/${unitCode}`,
  hierarchy: (): string => 'hierarchy',
};
