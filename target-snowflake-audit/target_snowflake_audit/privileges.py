"""Which schema privileges the target needs, read from Snowflake's SHOW GRANTS output.

`SHOW GRANTS ON SCHEMA <db>.<schema>` returns one row per grant with the columns
`privilege`, `granted_on`, `name`, `granted_to` (ROLE, DATABASE_ROLE, ...) and `grantee_name`
(sql-reference/sql/show-grants). A role has a privilege when it was granted to a role the
session's primary or secondary roles inherit, which IS_ROLE_IN_SESSION answers
(sql-reference/functions/is_role_in_session); OWNERSHIP of the schema implies every privilege
on it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

# Loading creates tables, the `__current` views and (connector transport) the named stage in
# the target schema; the SQL API transport loads with INSERTs and creates no stage.
REQUIRED_ON_SCHEMA: tuple[str, ...] = ("CREATE TABLE", "CREATE VIEW", "CREATE STAGE")


def required_on_schema(*, stages_files: bool) -> tuple[str, ...]:
    """The schema privileges a load needs with this transport.

    Args:
        stages_files: The transport loads with PUT + COPY through the named stage.

    Returns:
        The privileges, in REQUIRED_ON_SCHEMA order.
    """
    return tuple(p for p in REQUIRED_ON_SCHEMA if stages_files or p != "CREATE STAGE")


_OWNERSHIP = "OWNERSHIP"
# Grantee kinds whose inheritance IS_ROLE_IN_SESSION (or its database-role variant) answers.
GRANTEE_KINDS: tuple[str, ...] = ("ROLE", "DATABASE_ROLE")


def grantees(grants: Iterable[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """The (kind, name) of every role holding a privilege that matters here.

    Args:
        grants: SHOW GRANTS ON SCHEMA rows keyed by lowercase column name.

    Returns:
        Distinct (granted_to, grantee_name) pairs, in first-seen order.
    """
    wanted = {*REQUIRED_ON_SCHEMA, _OWNERSHIP}
    found: dict[tuple[str, str], None] = {}
    for grant in grants:
        kind = str(grant.get("granted_to", "")).upper()
        if kind in GRANTEE_KINDS and str(grant.get("privilege", "")).upper() in wanted:
            found[(kind, str(grant.get("grantee_name", "")))] = None
    return list(found)


def missing_privileges(
    grants: Sequence[Mapping[str, Any]],
    in_session: Callable[[str, str], bool],
    required: Sequence[str] = REQUIRED_ON_SCHEMA,
) -> list[str]:
    """The required schema privileges the session's roles lack.

    Args:
        grants: SHOW GRANTS ON SCHEMA rows keyed by lowercase column name.
        in_session: Whether the session inherits a grantee, given (granted_to, grantee_name).
        required: The privileges the transport needs (required_on_schema).

    Returns:
        The missing privileges, in REQUIRED_ON_SCHEMA order (empty: nothing missing).
    """
    held: set[str] = set()
    for grant in grants:
        kind = str(grant.get("granted_to", "")).upper()
        if kind not in GRANTEE_KINDS:
            continue
        if not in_session(kind, str(grant.get("grantee_name", ""))):
            continue
        privilege = str(grant.get("privilege", "")).upper()
        if privilege == _OWNERSHIP:
            return []
        held.add(privilege)
    return [privilege for privilege in required if privilege not in held]


def grant_statement(missing: Sequence[str], schema: str, role: str) -> str:
    """The GRANT an administrator runs to give the role what it lacks.

    Args:
        missing: Missing privileges.
        schema: The formatted (database-qualified) schema identifier.
        role: The session's role.

    Returns:
        The statement.
    """
    return f"GRANT {', '.join(missing)} ON SCHEMA {schema} TO ROLE {role}"
