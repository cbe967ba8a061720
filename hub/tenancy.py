"""Tenant isolation on a PostgreSQL warehouse: row-level security per firm.

The district's role (the hub's application role, which loads every firm) sees and writes every
row; a firm's role sees only the rows of the firm named by the session setting
`hub.company_id`, which the application that serves the firm sets per transaction
(`SET LOCAL hub.company_id = '…'`). Security is FORCEd, so that the tables' owner is bound by
the policies too, and neither role may have BYPASSRLS (checked).

A firm's role must not be handed to a person with an SQL prompt: a session setting can be
changed by whoever holds the session. Give each firm's people their own application (the
portal sets the firm), or a role per firm whose setting is fixed by `ALTER ROLE … SET` and
that cannot log in interactively.

Run once after `Warehouse.create_all()` (idempotent):
    python -m hub.tenancy postgresql+psycopg://owner@host/warehouse --district-role hub_app \
        --firm-role hub_firm
"""

from __future__ import annotations

import argparse
import re

import sqlalchemy as sa

from hub.canonical import TABLES

SETTING = "hub.company_id"
_ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def tenant_tables() -> list[str]:
    """The warehouse tables that hold a firm's rows (those with a `company_id` column)."""
    return [name for name, t in TABLES.items() if "company_id" in t.c]


def enable_row_level_security(engine: sa.Engine, district_role: str, firm_role: str) -> None:
    """Policies, grants and FORCEd row-level security on every table with `company_id`.

    Args:
        engine: a PostgreSQL engine connected as the tables' owner.
        district_role: sees and writes every row (the hub's loads).
        firm_role: sees only rows whose company_id equals the session's `hub.company_id`.

    Raises:
        ValueError: not PostgreSQL, a role name that is not a plain identifier, or a role
            that has BYPASSRLS or is a superuser (it would see every firm).
    """
    if engine.dialect.name != "postgresql":
        raise ValueError("row-level security is a PostgreSQL warehouse feature")
    for role in (district_role, firm_role):
        if not _ROLE.match(role):
            raise ValueError(f"role name {role!r}: use lower case letters, digits and _")
    with engine.begin() as conn:
        _check_roles(conn, [district_role, firm_role])
        prep = conn.dialect.identifier_preparer
        district, firm = prep.quote(district_role), prep.quote(firm_role)
        for name in tenant_tables():
            table = prep.format_table(TABLES[name])
            for stmt in (
                f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
                f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
                f"DROP POLICY IF EXISTS hub_district ON {table}",
                f"CREATE POLICY hub_district ON {table} TO {district} USING (true) "
                "WITH CHECK (true)",
                f"DROP POLICY IF EXISTS hub_firm ON {table}",
                f"CREATE POLICY hub_firm ON {table} FOR SELECT TO {firm} "
                f"USING (company_id = current_setting('{SETTING}', true))",
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {district}",
                f"GRANT SELECT ON {table} TO {firm}",
            ):
                conn.exec_driver_sql(stmt)
        # The hub's loads go through temporary tables and create missing tables and columns.
        for name in set(TABLES) - set(tenant_tables()):
            conn.exec_driver_sql(
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON "
                f"{prep.format_table(TABLES[name])} TO {district}"
            )


def _check_roles(conn: sa.Connection, roles: list[str]) -> None:
    q = sa.text("SELECT rolname, rolbypassrls, rolsuper FROM pg_roles WHERE rolname = ANY(:r)")
    found = {r.rolname: r for r in conn.execute(q, {"r": roles})}
    for role in roles:
        if role not in found:
            raise ValueError(f"role {role!r} does not exist: CREATE ROLE it first")
        if found[role].rolbypassrls or found[role].rolsuper:
            raise ValueError(f"role {role!r} has BYPASSRLS or is a superuser: it sees every firm")


def main() -> None:  # pragma: no cover - a one-off admin command
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url", help="SQLAlchemy URL of the warehouse, as the tables' owner")
    parser.add_argument("--district-role", default="hub_app")
    parser.add_argument("--firm-role", default="hub_firm")
    args = parser.parse_args()
    engine = sa.create_engine(args.url)
    try:
        enable_row_level_security(engine, args.district_role, args.firm_role)
    finally:
        engine.dispose()


if __name__ == "__main__":  # pragma: no cover
    main()
