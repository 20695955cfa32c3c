/** Every command group, in the order `trienkhai help` lists them within each section. */
import type { Group } from '../command';
import { audit } from './audit';
import { batch } from './batch';
import { calendar } from './calendar';
import { contacts } from './contacts';
import { escalations } from './escalations';
import { explainGroup } from './explain';
import { extendGroup } from './extend';
import { notifications } from './notifications';
import { plan } from './plan';
import { reportGroup } from './report';
import { rollout } from './rollout';
import { serveGroup, upGroup, workerGroup } from './stack';
import { token } from './token';
import { units } from './units';

export const GROUPS: readonly Group[] = [
  upGroup,
  workerGroup,
  serveGroup,
  units,
  rollout,
  plan,
  calendar,
  reportGroup,
  escalations,
  extendGroup,
  batch,
  explainGroup,
  contacts,
  notifications,
  token,
  audit,
];
