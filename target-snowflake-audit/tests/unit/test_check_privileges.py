"""check: which grants count as the privileges the target needs (SHOW GRANTS rows, no server)."""

from __future__ import annotations

from typing import Any

from target_snowflake_audit import privileges


# SHOW GRANTS ON SCHEMA rows, shaped as Snowflake documents them (sql-reference/sql/show-grants).
def _grant(privilege: str, grantee: str, granted_to: str = "ROLE") -> dict[str, Any]:
    return {
        "created_on": "2026-01-01 00:00:00.000 -0800",
        "privilege": privilege,
        "granted_on": "SCHEMA",
        "name": "ANALYTICS.RAW",
        "granted_to": granted_to,
        "grantee_name": grantee,
        "grant_option": "false",
        "granted_by": "SYSADMIN",
    }


def _in(*roles: str) -> Any:
    return lambda _kind, name: name in roles


def test_privileges_granted_to_an_inherited_role_are_enough():
    grants = [
        _grant("USAGE", "LOADER"),
        _grant("CREATE TABLE", "LOADER"),
        _grant("CREATE VIEW", "LOADER"),
        _grant("CREATE STAGE", "ETL_BASE"),
        _grant("CREATE STAGE", "SOMEONE_ELSE"),
    ]
    assert privileges.missing_privileges(grants, _in("LOADER", "ETL_BASE")) == []
    assert privileges.grantees(grants) == [
        ("ROLE", "LOADER"),
        ("ROLE", "ETL_BASE"),
        ("ROLE", "SOMEONE_ELSE"),
    ]


def test_missing_privileges_are_named_with_the_grant_that_fixes_them():
    grants = [
        _grant("USAGE", "LOADER"),
        _grant("CREATE TABLE", "LOADER"),
        _grant("CREATE VIEW", "BI"),
    ]
    missing = privileges.missing_privileges(grants, _in("LOADER"))
    assert missing == ["CREATE VIEW", "CREATE STAGE"]
    assert (
        privileges.grant_statement(missing, "ANALYTICS.RAW", "LOADER")
        == "GRANT CREATE VIEW, CREATE STAGE ON SCHEMA ANALYTICS.RAW TO ROLE LOADER"
    )


def test_ownership_of_the_schema_implies_every_privilege():
    assert privileges.missing_privileges([_grant("OWNERSHIP", "LOADER")], _in("LOADER")) == []


def test_grants_to_shares_or_roles_outside_the_session_do_not_count():
    grants = [
        _grant("OWNERSHIP", "SYSADMIN"),
        _grant("CREATE TABLE", "PARTNER_SHARE", granted_to="SHARE"),
        _grant("CREATE VIEW", "DB.LOADER_DB_ROLE", granted_to="DATABASE_ROLE"),
    ]
    assert privileges.missing_privileges(grants, _in("LOADER", "DB.LOADER_DB_ROLE")) == [
        "CREATE TABLE",
        "CREATE STAGE",
    ]


def test_the_sql_api_transport_needs_no_stage_privilege():
    grants = [_grant("CREATE TABLE", "LOADER"), _grant("CREATE VIEW", "LOADER")]
    required = privileges.required_on_schema(stages_files=False)

    assert privileges.missing_privileges(grants, _in("LOADER"), required) == []
    assert privileges.missing_privileges(grants, _in("LOADER")) == ["CREATE STAGE"]
