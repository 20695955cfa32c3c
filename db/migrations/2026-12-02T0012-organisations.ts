import { sql, type Kysely } from 'kysely';

/**
 * Organisations own their hierarchies (issue 10). An organisation is a root unit's code (a province
 * `BG`, a central bloc); each version now belongs to one organisation, and importing one organisation's
 * file never changes another's "latest". Version numbers stay one global serial, so a version still
 * names one shape and `hierarchy_units` is still keyed by (version, code): running rollouts pin
 * `hierarchy_version` and read units by (version, code), unchanged.
 *
 * Backfill of versions imported before: each unit is tagged with its root (`hierarchy_units.organisation`).
 * A version with one root belongs to that organisation. An old version holding several roots keeps
 * `organisation` null (a legacy multi-organisation version): each of its roots is an organisation whose
 * latest version it is, sharing that version number, until that organisation imports its own.
 *
 * `unit_lineage`: what became of a code (merged, split, dissolved, created, renamed, moved), with the
 * date and the version that recorded it; backfilled from the `predecessors` imported files carried.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table hierarchy_versions
    add column organisation text,
    add column kind text not null default 'snapshot' check (kind in ('snapshot', 'delta', 'change')),
    add column previous_version integer references hierarchy_versions (version),
    add column effective_from date`.execute(db);
  await sql`alter table hierarchy_units add column organisation text`.execute(db);
  await sql`
    with recursive walk as (
      select version, code, code as root from hierarchy_units where parent is null
      union all
      select c.version, c.code, w.root from hierarchy_units c join walk w on c.version = w.version and c.parent = w.code
    )
    update hierarchy_units u set organisation = w.root from walk w where u.version = w.version and u.code = w.code`.execute(db);
  // A unit no root reaches cannot exist in a validated import; tag it with itself rather than fail.
  await sql`update hierarchy_units set organisation = code where organisation is null`.execute(db);
  await sql`alter table hierarchy_units alter column organisation set not null`.execute(db);
  await sql`
    update hierarchy_versions v set organisation = r.root
      from (select version, min(code) as root, count(*) as roots from hierarchy_units where parent is null group by version) r
     where v.version = r.version and r.roots = 1`.execute(db);
  await sql`create index hierarchy_units_organisation_idx on hierarchy_units (organisation, version)`.execute(db);
  await sql`create index hierarchy_units_code_idx on hierarchy_units (code, version)`.execute(db);
  await sql`create index hierarchy_versions_organisation_idx on hierarchy_versions (organisation, version)`.execute(db);

  await sql`create table unit_lineage (
    id bigserial primary key,
    organisation text not null,
    from_code text,
    to_code text,
    kind text not null check (kind in ('merged', 'split', 'renamed', 'moved', 'dissolved', 'created')),
    effective_from date,
    version integer not null references hierarchy_versions (version),
    check (from_code is not null or to_code is not null),
    unique nulls not distinct (organisation, from_code, to_code, kind, effective_from)
  )`.execute(db);
  await sql`create index unit_lineage_from_idx on unit_lineage (from_code)`.execute(db);
  await sql`create index unit_lineage_to_idx on unit_lineage (to_code)`.execute(db);
  await sql`
    insert into unit_lineage (organisation, from_code, to_code, kind, effective_from, version)
    select u.organisation, p.code, u.code, 'merged', u.effective_from, min(u.version)
      from hierarchy_units u cross join lateral unnest(u.predecessors) as p(code)
     where p.code <> u.code
     group by u.organisation, p.code, u.code, u.effective_from
    on conflict do nothing`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table unit_lineage`.execute(db);
  await sql`drop index hierarchy_versions_organisation_idx`.execute(db);
  await sql`drop index hierarchy_units_code_idx`.execute(db);
  await sql`drop index hierarchy_units_organisation_idx`.execute(db);
  await sql`alter table hierarchy_units drop column organisation`.execute(db);
  await sql`alter table hierarchy_versions drop column organisation, drop column kind, drop column previous_version, drop column effective_from`.execute(db);
}
