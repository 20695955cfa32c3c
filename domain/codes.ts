/**
 * The grammar of the identifiers people type and that end up in workflow IDs, in one place: unit
 * codes, rollout IDs, and the request IDs that make a report or decision idempotent. The browser
 * gets the same patterns (served with the wording table), so a form refuses what the server would.
 *
 * Pure: imported by workflow code.
 */
import { z } from 'zod';

export const UNIT_CODE_MAX = 64;
export const ROLLOUT_ID_MAX = 100;
export const REQUEST_ID_MAX = 100;

/** ASCII letters and digits, then also '.', '_' or '-': safe in workflow IDs, URLs and file names. */
export const UNIT_CODE_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]*$';
export const ROLLOUT_ID_PATTERN = UNIT_CODE_PATTERN;
/** Request IDs may also hold ':' (e.g. `api:7f3c…`). */
export const REQUEST_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:-]*$';

const UNIT_CODE_RE = new RegExp(UNIT_CODE_PATTERN);
export const UNIT_CODE_EXPECTED = `expected ASCII letters, digits, '.', '_' or '-', starting with a letter or digit, at most ${UNIT_CODE_MAX} characters, e.g. BG or BG.HU-01; codes go into workflow IDs`;

export const isUnitCode = (s: string): boolean => s.length <= UNIT_CODE_MAX && UNIT_CODE_RE.test(s);

/** A unit code: ASCII, used in workflow IDs, so stable and URL-safe. */
export const UnitCode = z.string().max(UNIT_CODE_MAX, `a unit code is at most ${UNIT_CODE_MAX} characters`).regex(UNIT_CODE_RE, `not a unit code (${UNIT_CODE_EXPECTED})`);
export type UnitCode = z.infer<typeof UnitCode>;

export const RolloutId = z
  .string()
  .max(ROLLOUT_ID_MAX, `a rollout id is at most ${ROLLOUT_ID_MAX} characters`)
  .regex(new RegExp(ROLLOUT_ID_PATTERN), 'a rollout id is ASCII letters, digits, ".", "_" or "-", starting with a letter or digit');

export const RequestId = z
  .string()
  .max(REQUEST_ID_MAX, `an id is at most ${REQUEST_ID_MAX} characters`)
  .regex(new RegExp(REQUEST_ID_PATTERN), 'an id is ASCII letters, digits, ".", "_", ":" or "-", starting with a letter or digit');

/** A level code (cấp): a lowercase slug. Which levels exist is data, not code. */
export const LEVEL_CODE_PATTERN = '^[a-z0-9_-]+$';
export const LEVEL_CODE_RE = new RegExp(LEVEL_CODE_PATTERN);
export const LEVEL_CODE_EXPECTED = "expected a lowercase slug of a–z, 0–9, '_' or '-', e.g. tinh, xa, co-so";
export const LevelCode = z.string().regex(LEVEL_CODE_RE, `not a level code (${LEVEL_CODE_EXPECTED})`);
export type LevelCode = z.infer<typeof LevelCode>;

/** The patterns, for the browser's forms. */
export const CODE_PATTERNS = { unitCode: UNIT_CODE_PATTERN, rolloutId: ROLLOUT_ID_PATTERN, requestId: REQUEST_ID_PATTERN, unitCodeMax: UNIT_CODE_MAX, rolloutIdMax: ROLLOUT_ID_MAX } as const;
