/** Which units' contacts hear about a unit code, once the hierarchy has changed under a running rollout. */
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/database';
import { organisationOf } from '../db/hierarchy';
import { currentSuccessorsOf } from '../db/hierarchy-changes';

/**
 * The units whose contacts hear about `code`: the code itself while it exists in its organisation's
 * latest version (or was never imported), else its current successors by lineage (a merged commune's
 * reminders reach the commune it merged into). A unit dissolved with no successor keeps its own.
 */
export async function recipientUnitsOf(db: Kysely<Database> | Transaction<Database>, code: string): Promise<string[]> {
  const home = await organisationOf(db, code);
  if (!home || home.current) return [code];
  const now = await currentSuccessorsOf(db, code);
  return now.length ? now : [code];
}
