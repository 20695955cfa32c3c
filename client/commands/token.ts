/** `trienkhai token issue | list | revoke`: the HTTP API's bearer tokens (only their hash is stored). */
import { ROLES } from '../../app/tokens';
import { issueToken, listTokens, revokeToken } from '../../app/tokens';
import { formatLocal } from '../../domain/time';
import { defineCommand, defineGroup } from '../command';
import { UsageError } from '../errors';
import { table } from '../format';
import { JSON_OPTION } from '../options';
import { withSession } from '../session';

const issue = defineCommand({
  name: 'issue',
  summary: 'issue a token for one role (and, for a unit or committee, its unit); shown only once',
  positionals: [],
  options: {
    role: { type: 'string', value: ROLES.join('|'), required: true, description: 'what its holder may do', fills: ['role'] },
    unit: { type: 'string', value: 'CODE', description: 'the unit it acts for (unit, committee and inspector roles)', fills: ['unitCode', 'unit'] },
    label: { type: 'string', value: 'TEXT', required: true, description: 'who holds it', fills: ['label'] },
    by: { type: 'string', value: 'NAME', description: 'who issues it, recorded as user:NAME (default: $USER)' },
    ...JSON_OPTION,
  },
  examples: ['trienkhai token issue --role committee --unit BG.YT --label "Văn phòng Huyện ủy Yên Thế"'],
  async run({ values, io, usage, rename }) {
    const role = values.role;
    if (!(ROLES as ReadonlyArray<string>).includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}; got "${role}"\n\nusage: ${usage}`);
    return withSession(async (s) => {
      const t = await issueToken(s.db, {
        role: role as never,
        label: values.label,
        ...(values.unit ? { unitCode: values.unit } : {}),
        createdBy: `user:${values.by ?? process.env.USER ?? 'ops'}`,
      }).catch(rename());
      if (values.json) io.out(JSON.stringify(t, null, 2));
      else {
        io.out(`Token ${t.tokenId} (${t.role}${t.unitCode ? ` for ${t.unitCode}` : ''}) issued. It is shown only now; store it where its holder keeps secrets:`);
        io.out(t.token);
        io.out(`Use it as: Authorization: Bearer <token>. Revoke it with: trienkhai token revoke ${t.tokenId}`);
      }
      return 0;
    });
  },
});

const list = defineCommand({
  name: 'list',
  summary: 'the tokens: role, unit, label, created, last used, revoked',
  positionals: [],
  options: { ...JSON_OPTION },
  async run({ values, io }) {
    return withSession(async (s) => {
      const rows = await listTokens(s.db);
      if (values.json) io.out(JSON.stringify(rows, null, 2));
      else
        io.out(
          table(
            ['id', 'role', 'unit', 'label', 'created', 'last used', 'revoked'],
            rows.map((r) => [
              r.token_id,
              r.role,
              r.unit_code ?? '',
              r.label,
              formatLocal(new Date(r.created_at)),
              r.last_used_at ? formatLocal(new Date(r.last_used_at)) : '',
              r.revoked_at ? formatLocal(new Date(r.revoked_at)) : '',
            ]),
          ),
        );
      return 0;
    });
  },
});

const revoke = defineCommand({
  name: 'revoke',
  summary: 'revoke a token: it is refused from then on',
  positionals: [{ name: 'TOKEN_ID', required: true, description: "the token's ID (see `trienkhai token list`)" }],
  arity: 'give the token ID (see `trienkhai token list`)',
  options: {},
  examples: ['trienkhai token revoke 2ebb1d4a62b3'],
  async run({ args: [id], io }) {
    return withSession(async (s) => {
      const r = await revokeToken(s.db, id);
      io.out(r.alreadyRevoked ? `Token ${id} was already revoked.` : `Token ${id} revoked: it is refused from now on.`);
      return 0;
    });
  },
});

export const token = defineGroup({ name: 'token', section: 'tokens', summary: 'mã truy cập / HTTP API tokens', commands: [issue, list, revoke] });
