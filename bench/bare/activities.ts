/**
 * The baseline workflows' one activity: insert one row into `bench_rows` (created by bench/stack.ts).
 */
import { sql, type Kysely } from 'kysely';

export interface RowInput {
  run: string;
  kind: 'enrolled' | 'escalated';
  code: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function createBareActivities(db: Kysely<any>) {
  return {
    async recordRow(r: RowInput): Promise<void> {
      await sql`insert into bench_rows (run, kind, code) values (${r.run}, ${r.kind}, ${r.code}) on conflict do nothing`.execute(db);
    },
  };
}

export type BareActivities = ReturnType<typeof createBareActivities>;
