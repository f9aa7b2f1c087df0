"""``tap-exactonline check``: a read-only probe of a real account before the first sync.

It authenticates (rotating the refresh token through the store, as a sync does), reads one row
(``$top=1``) of every endpoint the selected streams read, for one division, and compares what
Exact sends with the tap's schemas: fields Exact sends that the tap does not know (they would
not be archived), fields the tap expects that Exact no longer sends, and values whose shape does
not fit their documented Edm type. It spends one call per endpoint plus ``current/Me`` (which
Exact does not count), writes no data, and exits 0 only when everything conforms.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import click
from singer_sdk.exceptions import FatalAPIError

from tap_exactonline.auth_cli import load_config
from tap_exactonline.dates import exact_date_to_utc
from tap_exactonline.errors import ExitCode
from tap_exactonline.schema import Edm, ExactField, endpoint
from tap_exactonline.streams.base import ExactStream
from tap_exactonline.streams.kinds import ParentModifiedStream
from tap_exactonline.tap import TapExactOnline
from tap_exactonline.values import to_decimal, to_integer

_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_INTEGERS = frozenset({Edm.BYTE, Edm.INT16, Edm.INT32, Edm.INT64})
#: How WCF Data Services (Exact's OData layer) refuses a selected property it does not have.
_UNKNOWN_PROPERTY = re.compile(r"No property '([^']+)' exists")
_DECIMALS = frozenset({Edm.SINGLE, Edm.DOUBLE, Edm.DECIMAL})


def shape_fits(found: ExactField, value: Any) -> bool:
    """Whether a value as Exact sent it fits the field's documented Edm type.

    Args:
        found: The field as the tap declares it.
        value: The decoded JSON value (non-integers as Decimal).

    Returns:
        True for null and for a value of the type's JSON shape (integers and decimals may be
        JSON numbers or numeric strings, as OData v2 writes Int64 and Decimal).
    """
    if value is None:
        return True
    edm = found.edm
    if edm in _INTEGERS or edm in _DECIMALS:
        read = to_integer if edm in _INTEGERS else to_decimal
        try:
            read(value)
        except ValueError:
            return False
        return type(value) is not bool
    test = _SHAPES.get(edm, lambda _value: False)
    return test(value)


#: How a non-null value of a non-numeric Edm type looks in Exact's JSON.
_SHAPES: dict[Edm, Callable[[Any], bool]] = {
    Edm.BOOLEAN: lambda value: type(value) is bool,
    Edm.DATETIME: lambda value: type(value) is str and exact_date_to_utc(value) is not None,
    Edm.GUID: lambda value: type(value) is str and _GUID.fullmatch(value) is not None,
    Edm.STRING: lambda value: type(value) is str,
    Edm.BINARY: lambda value: type(value) is str,
}


@dataclass
class Probe:
    """One endpoint to probe: the streams reading it and what was found."""

    path: str
    streams: list[str] = field(default_factory=list)
    outcome: str = "OK"
    details: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Whether the endpoint conforms (an endpoint without rows cannot be compared)."""
        return self.outcome in ("OK", "NO ROWS")

    def line(self) -> str:
        """The report line: outcome, endpoint, streams and what differs."""
        text = f"{self.outcome:<9}{self.path} ({', '.join(self.streams)})"
        return f"{text}: {'; '.join(self.details)}" if self.details else text


def compare(fields: tuple[ExactField, ...], row: dict[str, Any]) -> list[str]:
    """What differs between a row Exact sent and the endpoint's declared fields.

    Args:
        fields: The tap's declaration of the endpoint.
        row: One row, as decoded.

    Returns:
        One entry per kind of difference (empty when the row conforms).
    """
    declared = {f.name: f for f in fields}
    sent = {
        name: value
        for name, value in row.items()
        # Navigation properties arrive as links unless expanded; they are not row data.
        if name != "__metadata" and not (isinstance(value, dict) and "__deferred" in value)
    }
    problems = []
    unknown = [name for name in sent if name not in declared]
    if unknown:
        problems.append(f"unknown fields (not archived): {', '.join(unknown)}")
    missing = [name for name in declared if name not in sent]
    if missing:
        problems.append(f"missing fields: {', '.join(missing)}")
    wrong = [
        f"{name} ({declared[name].edm.value}) got {value!r:.40}"
        for name, value in sent.items()
        if name in declared and not shape_fits(declared[name], value)
    ]
    if wrong:
        problems.append(f"unexpected types: {', '.join(wrong)}")
    return problems


def probes_for(streams: Iterable[ExactStream]) -> dict[str, Probe]:
    """The endpoints the given streams read, each once.

    Args:
        streams: The selected streams.

    Returns:
        Probes by endpoint path, in stream order.
    """
    probes: dict[str, Probe] = {}
    for stream in streams:
        paths = list(stream.endpoint_paths())
        if isinstance(stream, ParentModifiedStream):
            paths.append(stream.parent_path)
        if stream.deleted_entity_type is not None:
            paths.append("sync/Deleted")
        for path in paths:
            probes.setdefault(path, Probe(path)).streams.append(stream.name)
    return probes


def run_check(tap: TapExactOnline, division: int | None) -> bool:
    """Probe every endpoint of the selected streams and print one line each.

    Args:
        tap: The configured tap (its authenticator, rate limiter and streams).
        division: The division to read; None: the user's current division.

    Returns:
        Whether every endpoint conforms.
    """
    division = division if division is not None else _division_to_probe(tap)
    selected = [s for s in tap.streams.values() if isinstance(s, ExactStream) and s.selected]
    probes = probes_for(selected)
    click.echo(f"Checking {len(probes)} endpoints of division {division} at {tap.host}")
    client = tap.client
    fetch = client.with_retries(client.fetch_page)
    for probe in probes.values():
        url = client.division_url(division, probe.path)
        try:
            rows, _ = fetch(url, probe_params(probe.path), division)
        except FatalAPIError as exc:
            removed = _UNKNOWN_PROPERTY.search(str(exc))
            if removed:
                probe.outcome = "MISMATCH"
                probe.details = [f"missing fields: {removed.group(1)} (Exact: {exc})"]
            else:
                probe.outcome, probe.details = "ERROR", [str(exc)]
        else:
            if not rows:
                probe.outcome = "NO ROWS"
                probe.details = ["nothing to compare in this division"]
            else:
                probe.details = compare(endpoint(probe.path).fields, rows[0])
                probe.outcome = "MISMATCH" if probe.details else "OK"
        click.echo(probe.line())
    limits = tap.rate_limiter.limits(division)
    click.echo(
        f"Calls: {limits.calls_this_run} (one per endpoint) and current/Me, which Exact does not"
        f" count. Headroom in division {division}: {_remaining(limits.daily_remaining)} calls"
        f" left today, {_remaining(limits.minutely_remaining)} this minute."
    )
    return all(probe.passed for probe in probes.values())


def probe_params(path: str) -> dict[str, Any]:
    """The query of a probe: one row, and every field Exact sends where it allows that.

    Bulk pages make `$select` mandatory, so bulk probes select the declared fields (Exact then
    names a field it no longer has in a 400). Sync and standard probes ask for `$top=1` without
    `$select` (Exact's own error text offers `$top=1` in place of `$select`), so fields Exact
    added show up too.

    Args:
        path: The endpoint.

    Returns:
        The query parameters.
    """
    params: dict[str, Any] = {"$top": "1"}
    if path.startswith("bulk/"):
        params["$select"] = ",".join(endpoint(path).field_names())
    if path.startswith("sync/"):
        params["$filter"] = "Timestamp gt 1L"  # Exact: a first sync call starts after 1
    return params


def _division_to_probe(tap: TapExactOnline) -> int:
    configured = [str(code).strip() for code in tap.config.get("divisions") or []]
    if configured and configured != ["all"]:
        return int(configured[0])
    return tap.current_division


def _remaining(value: int | None) -> str:
    return "unknown" if value is None else str(value)


@click.command(name="check")
@click.option("--config", "config_paths", multiple=True, help="Config file, or ENV.")
@click.option("--division", type=int, help="Division to read (default: the first configured).")
@click.option("--catalog", "--properties", "catalog_path", help="Only the selected streams.")
# `meltano invoke` also hands over the state file it keeps for the tap; check writes none.
@click.option("--state", "_state", hidden=True)
def check_command(
    config_paths: tuple[str, ...],
    division: int | None,
    catalog_path: str | None,
    _state: str | None,
) -> None:
    """Read one row of every endpoint the tap would read and compare it with the schemas."""
    catalog = None
    if catalog_path:
        with open(catalog_path, encoding="utf-8") as handle:
            catalog = json.load(handle)
    tap = TapExactOnline(config=load_config(config_paths), catalog=catalog, validate_config=True)
    if not run_check(tap, division):
        click.echo("Some endpoints differ from the tap's schemas: see the lines above.", err=True)
        sys.exit(int(ExitCode.CHECK_FAILED))
    click.echo("Every endpoint conforms.")
