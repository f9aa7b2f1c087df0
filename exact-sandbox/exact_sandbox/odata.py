"""OData v2 as Exact speaks it: query options, `$filter` compiled to SQL, JSON and Atom output.

Rows are serialised inside SQLite (`json_object`), so a 1000-row page costs one query and one
string join in Python; that is what keeps sync and bulk serving far above 30,000 rows/s.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote as url_quote
from xml.sax.saxutils import escape

from exact_sandbox.catalog import PAGE_SIZE, Edm, Entity, Field, Kind
from exact_sandbox.clock import parse_wall_datetime, wall_ms_to_iso
from exact_sandbox.store import JSON_COLUMN, field_json_sql, json_members_sql, quote

SUPPORTED_OPTIONS = frozenset(
    {"$select", "$filter", "$top", "$orderby", "$skiptoken", "$inlinecount", "$skip", "$expand"},
)
SYSTEM_TYPES: dict[Edm, str] = {
    Edm.GUID: "System.Guid",
    Edm.STRING: "System.String",
    Edm.BINARY: "System.Byte[]",
    Edm.BYTE: "System.Byte",
    Edm.INT16: "System.Int16",
    Edm.INT32: "System.Int32",
    Edm.INT64: "System.Int64",
    Edm.DOUBLE: "System.Double",
    Edm.DATETIME: "System.DateTime",
    Edm.BOOLEAN: "System.Boolean",
}
LITERAL_TYPES = {
    "string": "System.String",
    "guid": "System.Guid",
    "datetime": "System.DateTime",
    "int": "System.Int32",
    "long": "System.Int64",
    "decimal": "System.Decimal",
    "bool": "System.Boolean",
}
NUMERIC = frozenset({Edm.BYTE, Edm.INT16, Edm.INT32, Edm.INT64, Edm.DOUBLE})
COMPARISONS = {"eq": "=", "ne": "!=", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}
# Keep `__next` readable like Exact's: `$skiptoken=guid'...'`, `$select=ID,Code`.
NAME_SAFE = "$"
VALUE_SAFE = "$,'():"
ATOM_NS = (
    'xmlns="http://www.w3.org/2005/Atom"'
    ' xmlns:d="http://schemas.microsoft.com/ado/2007/08/dataservices"'
    ' xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"'
)


class ODataError(Exception):
    """A request Exact would refuse; carries the HTTP status and Exact's message text."""

    def __init__(self, message: str, status: int = 400) -> None:
        """Keep the message that goes into `error.message.value`."""
        super().__init__(message)
        self.message = message
        self.status = status


def error_json(message: str) -> bytes:
    """Exact's error body."""
    return json.dumps(
        {"error": {"code": "", "message": {"lang": "", "value": message}}},
    ).encode()


def error_xml(message: str) -> bytes:
    """Exact's error body when the client did not ask for JSON."""
    return (
        '<?xml version="1.0" encoding="utf-8"?><error xmlns='
        '"http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"><code></code>'
        f'<message xml:lang="">{escape(message)}</message></error>'
    ).encode()


# -- query options ------------------------------------------------------------------------


@dataclass
class QueryOptions:
    """The OData system query options of one request, plus the raw pairs for `__next`."""

    pairs: list[tuple[str, str]]
    select: list[str] | None = None
    filter: str | None = None
    top: int | None = None
    orderby: str | None = None
    skiptoken: str | None = None
    inlinecount: bool = False
    other: dict[str, str] = field(default_factory=dict)


def parse_options(pairs: Sequence[tuple[str, str]]) -> QueryOptions:  # noqa: PLR0912
    """Read `$select`, `$filter`, `$top`, `$orderby`, `$skiptoken`, `$inlinecount`."""
    options = QueryOptions(pairs=list(pairs))
    for name, value in pairs:
        if name == "$select":
            options.select = [part.strip() for part in value.split(",") if part.strip()]
        elif name == "$filter":
            options.filter = value
        elif name == "$top":
            if not value.strip().isdigit():
                raise ODataError(f"Invalid $top value '{value}'.")
            options.top = int(value)
        elif name == "$orderby":
            options.orderby = value
        elif name == "$skiptoken":
            options.skiptoken = value
        elif name == "$inlinecount":
            if value not in ("allpages", "none"):
                raise ODataError(f"Invalid $inlinecount value '{value}'.")
            options.inlinecount = value == "allpages"
        elif name == "$skip":
            raise ODataError("$skip is not supported; use the $skiptoken of __next instead.")
        elif name == "$expand":
            raise ODataError("$expand is not supported by this sandbox endpoint.")
        elif name.startswith("$"):
            raise ODataError(f"The query parameter '{name}' is not supported.")
        else:
            options.other[name] = value
    return options


# -- $filter ------------------------------------------------------------------------------

TOKEN = re.compile(
    r"""\s*(?:
    (?P<guid>guid'(?P<guid_value>[^']*)')
  | (?P<datetime>datetime'(?P<datetime_value>[^']*)')
  | (?P<string>'(?P<string_value>(?:[^']|'')*)')
  | (?P<number>-?\d+(?:\.\d+)?(?P<suffix>[LlMmDdFf])?)
  | (?P<punct>[(),])
  | (?P<word>[A-Za-z_][A-Za-z0-9_./]*)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    """One lexical token of a `$filter` and its position (Exact quotes positions in errors)."""

    kind: str
    value: Any
    position: int


@dataclass(frozen=True)
class Literal:
    """A typed literal: kind is one of LITERAL_TYPES' keys or "null"."""

    kind: str
    value: Any
    text: str
    position: int


@dataclass(frozen=True)
class FieldRef:
    """A property reference, possibly wrapped in trim/tolower/toupper."""

    name: str
    position: int
    wrappers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Compare:
    """`left op right`."""

    left: FieldRef | Literal
    op: str
    right: FieldRef | Literal
    position: int


@dataclass(frozen=True)
class Logical:
    """`left and|or right`."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Not:
    """`not operand`."""

    operand: Node


@dataclass(frozen=True)
class Call:
    """A boolean string function: substringof, startswith, endswith."""

    name: str
    field: FieldRef
    text: Literal


Node = Compare | Logical | Not | Call


def tokenize(text: str) -> list[Token]:
    """Split a `$filter` into tokens."""
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ODataError(f"Syntax error at position {position} in '{text}'.")
        start = match.start(match.lastgroup or 0)
        if match.group("guid"):
            tokens.append(Token("guid", match.group("guid_value"), start))
        elif match.group("datetime"):
            tokens.append(Token("datetime", match.group("datetime_value"), start))
        elif match.group("string") is not None:
            tokens.append(Token("string", match.group("string_value").replace("''", "'"), start))
        elif match.group("number"):
            tokens.append(Token("number", match.group("number"), start))
        elif match.group("punct"):
            tokens.append(Token(match.group("punct"), match.group("punct"), start))
        else:
            tokens.append(Token("word", match.group("word"), start))
        position = match.end()
    return tokens


class FilterParser:
    """Recursive descent over `or` < `and` < `not` < comparison."""

    def __init__(self, text: str) -> None:
        """Tokenise `text`."""
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0

    def parse(self) -> Node:
        """The whole expression; trailing tokens are an error."""
        node = self.parse_or()
        if self.index < len(self.tokens):
            token = self.tokens[self.index]
            raise ODataError(f"Syntax error at position {token.position} in '{self.text}'.")
        return node

    def peek_word(self) -> str | None:
        """The next token's lower-cased word, if it is one."""
        if self.index < len(self.tokens) and self.tokens[self.index].kind == "word":
            return str(self.tokens[self.index].value).lower()
        return None

    def take(self, kind: str | None = None) -> Token:
        """Consume a token (of `kind`)."""
        if self.index >= len(self.tokens):
            raise ODataError(f"Expression expected at position {len(self.text)}.")
        token = self.tokens[self.index]
        if kind is not None and token.kind != kind:
            raise ODataError(f"'{kind}' expected at position {token.position}.")
        self.index += 1
        return token

    def parse_or(self) -> Node:
        """`a or b or c`."""
        node = self.parse_and()
        while self.peek_word() == "or":
            self.index += 1
            node = Logical("OR", node, self.parse_and())
        return node

    def parse_and(self) -> Node:
        """`a and b and c`."""
        node = self.parse_unary()
        while self.peek_word() == "and":
            self.index += 1
            node = Logical("AND", node, self.parse_unary())
        return node

    def parse_unary(self) -> Node:
        """`not x`, `( x )`, a boolean function or a comparison."""
        if self.peek_word() == "not":
            self.index += 1
            return Not(self.parse_unary())
        token = self.tokens[self.index] if self.index < len(self.tokens) else None
        if token is not None and token.kind == "(":
            self.index += 1
            node = self.parse_or()
            self.take(")")
            return node
        word = self.peek_word()
        if word in ("substringof", "startswith", "endswith"):
            return self.parse_call(word)
        left = self.parse_operand()
        op_token = self.take("word")
        op = str(op_token.value).lower()
        if op not in COMPARISONS:
            raise ODataError(f"Syntax error at position {op_token.position} in '{self.text}'.")
        right = self.parse_operand()
        return Compare(left, op, right, op_token.position)

    def parse_call(self, name: str) -> Call:
        """`substringof('x', F)`, `startswith(F, 'x')`, `endswith(F, 'x')`."""
        self.index += 1
        self.take("(")
        first = self.parse_operand()
        self.take(",")
        second = self.parse_operand()
        self.take(")")
        field_ref, text = (second, first) if name == "substringof" else (first, second)
        if not isinstance(field_ref, FieldRef) or not isinstance(text, Literal):
            raise ODataError(f"No applicable function found for '{name}'.")
        if text.kind != "string":
            raise ODataError(f"No applicable function found for '{name}'.")
        return Call(name, field_ref, text)

    def parse_operand(self) -> FieldRef | Literal:  # noqa: PLR0911 - one return per literal kind
        """A literal, a property, or trim/tolower/toupper(property)."""
        token = self.take()
        if token.kind == "guid":
            return Literal("guid", token.value, f"guid'{token.value}'", token.position)
        if token.kind == "datetime":
            return Literal("datetime", token.value, f"datetime'{token.value}'", token.position)
        if token.kind == "string":
            return Literal("string", token.value, f"'{token.value}'", token.position)
        if token.kind == "number":
            text = str(token.value)
            suffix = text[-1].upper() if text[-1].isalpha() else ""
            digits = text.rstrip("LlMmDdFf")
            if suffix == "L":
                return Literal("long", int(digits), text, token.position)
            if suffix or "." in digits:
                return Literal("decimal", float(digits), text, token.position)
            return Literal("int", int(digits), text, token.position)
        if token.kind == "word":
            word = str(token.value)
            lowered = word.lower()
            if lowered in ("true", "false"):
                return Literal("bool", lowered == "true", lowered, token.position)
            if lowered == "null":
                return Literal("null", None, "null", token.position)
            if lowered in ("trim", "tolower", "toupper"):
                self.take("(")
                inner = self.parse_operand()
                self.take(")")
                if not isinstance(inner, FieldRef):
                    raise ODataError(f"No applicable function found for '{lowered}'.")
                return FieldRef(inner.name, inner.position, (*inner.wrappers, lowered))
            return FieldRef(word, token.position)
        raise ODataError(f"Expression expected at position {token.position} in '{self.text}'.")


def parse_filter(text: str) -> Node:
    """Parse a `$filter` expression."""
    return FilterParser(text).parse()


def filter_fields(node: Node) -> set[str]:
    """Every property a filter mentions."""
    if isinstance(node, Logical):
        return filter_fields(node.left) | filter_fields(node.right)
    if isinstance(node, Not):
        return filter_fields(node.operand)
    if isinstance(node, Call):
        return {node.field.name}
    return {side.name for side in (node.left, node.right) if isinstance(side, FieldRef)}


class FilterCompiler:
    """Compile a parsed filter into a parameterised SQL condition over an entity's fields."""

    def __init__(self, fields: dict[str, Field]) -> None:
        """`fields` are the properties the endpoint serves, by name."""
        self.fields = fields
        self.params: list[Any] = []

    def compile(self, node: Node) -> str:
        """SQL text; parameters accumulate in `self.params`."""
        if isinstance(node, Logical):
            return f"({self.compile(node.left)} {node.op} {self.compile(node.right)})"
        if isinstance(node, Not):
            return f"(NOT {self.compile(node.operand)})"
        if isinstance(node, Call):
            return self.compile_call(node)
        return self.compile_compare(node)

    def field_sql(self, ref: FieldRef) -> tuple[str, Field]:
        """The SQL of a property reference, with its string wrappers."""
        found = self.fields.get(ref.name)
        if found is None:
            raise ODataError(f"No property '{ref.name}' exists in type at position {ref.position}.")
        sql = quote(found.name)
        for wrapper in ref.wrappers:
            sql = {"trim": "trim({})", "tolower": "lower({})", "toupper": "upper({})"}[
                wrapper
            ].format(sql)
        return sql, found

    def compile_call(self, node: Call) -> str:
        """substringof/startswith/endswith, case-insensitive like Exact's SQL Server."""
        sql, found = self.field_sql(node.field)
        if found.edm is not Edm.STRING:
            raise ODataError(f"No applicable function found for '{node.name}'.")
        text = str(node.text.value).lower()
        if node.name == "substringof":
            self.params.append(text)
            return f"(instr(lower({sql}), ?) > 0)"
        self.params.extend((text, text))
        if node.name == "startswith":
            return f"(substr(lower({sql}), 1, length(?)) = ?)"
        return f"(substr(lower({sql}), -length(?)) = ?)"

    def compile_compare(self, node: Compare) -> str:
        """`field op literal` (either order) with Exact's type rules."""
        left, right, op = node.left, node.right, node.op
        if isinstance(left, Literal) and isinstance(right, FieldRef):
            left, right = right, left
            op = {"gt": "lt", "lt": "gt", "ge": "le", "le": "ge"}.get(op, op)
        if not isinstance(left, FieldRef) or not isinstance(right, Literal):
            raise ODataError(
                f"Operator '{node.op}' must compare a property with a literal"
                f" at position {node.position}."
            )
        sql, found = self.field_sql(left)
        if right.kind == "null":
            if op not in ("eq", "ne"):
                raise ODataError(f"Operator '{op}' incompatible with null at {node.position}.")
            return f"({sql} IS {'NOT ' if op == 'ne' else ''}NULL)"
        value = self.literal_value(found, right, op, node.position)
        if found.edm is Edm.STRING:
            self.params.append(value)
            return f"({sql} {COMPARISONS[op]} ? COLLATE NOCASE)"
        if found.edm is Edm.GUID and op not in ("eq", "ne"):
            raise ODataError(
                f"Operator '{op}' incompatible with operand types 'System.Guid' and"
                f" 'System.Guid' at position {node.position}."
            )
        self.params.append(value)
        return f"({sql} {COMPARISONS[op]} ?)"

    def literal_value(self, found: Field, literal: Literal, op: str, position: int) -> Any:
        """Convert a literal to the stored form of `found`, refusing mismatched types."""
        edm = found.edm
        accepted = {
            Edm.GUID: ("guid",),
            Edm.STRING: ("string",),
            Edm.DATETIME: ("datetime",),
            Edm.BOOLEAN: ("bool",),
            Edm.DOUBLE: ("int", "long", "decimal"),
        }.get(edm, ("int", "long"))
        if literal.kind not in accepted:
            raise ODataError(
                f"Operator '{op}' incompatible with operand types '{SYSTEM_TYPES[edm]}' and"
                f" '{LITERAL_TYPES[literal.kind]}' at position {position}."
            )
        if literal.kind == "guid":
            try:
                return str(uuid.UUID(str(literal.value)))
            except ValueError:
                raise ODataError(
                    f"Unrecognized 'Edm.Guid' literal '{literal.text}' at '{literal.position}'."
                ) from None
        if literal.kind == "datetime":
            try:
                return parse_wall_datetime(str(literal.value))
            except ValueError:
                raise ODataError(
                    f"Unrecognized 'Edm.DateTime' literal '{literal.text}' at '{literal.position}'."
                ) from None
        if literal.kind == "bool":
            return int(bool(literal.value))
        return literal.value


# -- page queries -------------------------------------------------------------------------


@dataclass(frozen=True)
class Drift:
    """A change Exact made to an endpoint after its reference page was captured.

    Lets tests meet an API that no longer matches the documented fields: `added` fields are
    served as the given text, `removed` ones are gone (selecting them is refused).
    """

    added: dict[str, str] = field(default_factory=dict)
    removed: frozenset[str] = frozenset()


@dataclass
class PageRequest:
    """Everything needed to serve one page of a collection."""

    entity: Entity
    kind: Kind
    division: int
    options: QueryOptions
    source_sql: str
    uri_prefix: str
    division_filter: bool = True
    fragment_fields: frozenset[str] | None = None
    extra_conditions: list[tuple[str, list[Any]]] = field(default_factory=list)
    #: OData v2 JSON writes Edm.Int64 as a string (Timestamp: "10024"); False serves numbers.
    int64_as_string: bool = True
    drift: Drift | None = None


@dataclass
class Page:
    """A served page: either JSON row texts or raw rows (for Atom)."""

    fields: tuple[Field, ...]
    rows: list[Any]
    next_skiptoken: str | None
    next_top: int | None
    count: int | None


def selected_fields(
    entity: Entity, kind: Kind, select: list[str] | None, drift: Drift | None = None
) -> tuple[Field, ...]:
    """Resolve `$select` against the fields the endpoint serves (case-sensitive, as Exact)."""
    available = entity.fields_for(kind)
    if drift is not None:
        available = tuple(f for f in available if f.name not in drift.removed) + tuple(
            Field(name, Edm.STRING, frozenset({kind})) for name in drift.added
        )
    if not select or select == ["*"]:
        return available
    by_name = {f.name: f for f in available}
    chosen: list[Field] = []
    for name in select:
        found = by_name.get(name)
        if found is None:
            # WCF Data Services' wording for an unknown property (as for $filter above).
            raise ODataError(f"No property '{name}' exists in type '{entity.metadata_type}'.")
        if found not in chosen:
            chosen.append(found)
    return tuple(chosen)


def validate(entity: Entity, kind: Kind, options: QueryOptions) -> Node | None:
    """Apply Exact's per-kind rules; answer the parsed filter."""
    node = parse_filter(options.filter) if options.filter and options.filter.strip() else None
    used = filter_fields(node) if node else set()
    if kind is Kind.BULK:
        if not options.select:
            # Exact: "It is mandatory to provide the $select query option" on every bulk page.
            raise ODataError("Please add a $select or a $top=1 statement to the query string.")
        if options.select == ["*"]:
            raise ODataError("This endpoint does not support query { $select=* }.")
        if options.orderby:
            raise ODataError("$orderby is not supported on bulk endpoints.")
        allowed = entity.bulk_filter_fields
        if allowed is not None and used - allowed:
            raise ODataError(
                "Filtering on these fields is not supported: " + ", ".join(sorted(used - allowed))
            )
    elif kind is Kind.SYNC:
        if options.select == ["*"]:
            raise ODataError("This endpoint does not support query { $select=* }.")
        if options.orderby:
            raise ODataError("$orderby is not supported on sync endpoints.")
        if node is not None:
            check_sync_filter(entity, node)
    else:
        if entity.mandatory_filter_fields and not used & set(entity.mandatory_filter_fields):
            raise ODataError(
                "This endpoint has mandatory filtering applied. A GET request for this endpoint"
                " must have a $filter parameter with one of the following fields in the url: "
                + ",".join(entity.mandatory_filter_fields)
            )
        if entity.name in ("GeneralJournalEntries", "PurchaseEntries") and not (
            options.select or options.top == 1
        ):
            raise ODataError("Please add a $select or a $top=1 statement to the query string.")
    return node


def check_sync_filter(entity: Entity, node: Node) -> None:
    """Sync data endpoints take only `Timestamp gt N`; sync/Deleted also `EntityType eq K`."""
    parts = [node]
    if isinstance(node, Logical) and node.op == "AND" and entity.name == "Deleted":
        parts = [node.left, node.right]
    timestamp_seen = False
    for part in parts:
        if (
            isinstance(part, Compare)
            and isinstance(part.left, FieldRef)
            and isinstance(part.right, Literal)
            and not part.left.wrappers
        ):
            if part.left.name == "Timestamp" and part.op == "gt" and not timestamp_seen:
                timestamp_seen = True
                continue
            if entity.name == "Deleted" and part.left.name == "EntityType" and part.op == "eq":
                continue
        raise ODataError(
            "Only the Timestamp field is allowed as filter parameter, as 'Timestamp gt <value>'."
        )


def key_literal(edm: Edm, value: Any) -> str:
    """A key value as OData writes it in a skiptoken or `__metadata.uri`."""
    if edm is Edm.GUID:
        return f"guid'{value}'"
    if edm is Edm.INT64:
        return f"{value}L"
    return str(value)


def parse_key_literal(edm: Edm, text: str) -> Any:
    """Read back a skiptoken."""
    try:
        if edm is Edm.GUID:
            match = re.fullmatch(r"guid'([^']*)'", text.strip())
            return str(uuid.UUID(match.group(1) if match else text.strip()))
        if edm in (Edm.INT16, Edm.INT32, Edm.INT64):
            return int(text.strip().rstrip("Ll"))
        return text
    except ValueError:
        raise ODataError(f"Invalid $skiptoken '{text}'.") from None


def uri_sql(entity: Entity) -> str:
    """The SQL building `__metadata.uri` (prefix bound as the first parameter)."""
    key = entity.field(entity.key)
    column = quote(key.name)
    if key.edm is Edm.GUID:
        return f"? || '(guid''' || {column} || ''')'"
    if key.edm is Edm.INT64:
        return f"? || '(' || {column} || 'L)'"
    return f"? || '(' || {column} || ')'"


def fetch_page(store_query: Any, request: PageRequest, as_json: bool) -> Page:
    """Run the page query: JSON texts built in SQLite, or raw values for Atom."""
    entity, kind, options = request.entity, request.kind, request.options
    node = validate(entity, kind, options)
    fields = selected_fields(entity, kind, options.select, request.drift)
    served = {f.name: f for f in selected_fields(entity, kind, None, request.drift)}
    key_field = entity.field(entity.key)
    paging_field = served["Timestamp"] if kind is Kind.SYNC else key_field

    conditions: list[str] = []
    params: list[Any] = []
    if request.division_filter:
        conditions.append("Division = ?")
        params.append(request.division)
    for sql, values in request.extra_conditions:
        conditions.append(sql)
        params.extend(values)
    if node is not None:
        compiler = FilterCompiler(served)
        conditions.append(compiler.compile(node))
        params.extend(compiler.params)
    base_conditions, base_params = list(conditions), list(params)

    order = parse_orderby(options.orderby, served) if options.orderby else []
    order.append((paging_field, False))
    if options.skiptoken:
        token_value = parse_key_literal(paging_field.edm, options.skiptoken)
        if len(order) == 1:
            conditions.append(f"{quote(paging_field.name)} > ?")
            params.append(token_value)
        else:
            sql, values = keyset_condition(store_query, request, order, paging_field, token_value)
            conditions.append(sql)
            params.extend(values)

    page_size = PAGE_SIZE[kind]
    limit = page_size if options.top is None else min(page_size, options.top)
    where = " AND ".join(conditions) or "1"
    order_sql = ", ".join(f"{quote(f.name)}{' DESC' if desc else ''}" for f, desc in order)
    columns, select_params = select_columns(entity, fields, request, as_json)
    sql = (
        f"SELECT {columns}, {quote(paging_field.name)} FROM {request.source_sql}"  # noqa: S608 - identifiers from the catalog, values bound
        f" WHERE {where} ORDER BY {order_sql} LIMIT ?"
    )
    rows = store_query(sql, [*select_params, *params, limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    next_token: str | None = None
    next_top: int | None = None
    if more and rows and (options.top is None or options.top > limit):
        next_token = key_literal(paging_field.edm, rows[-1][-1])
        next_top = None if options.top is None else options.top - limit
    count = None
    if options.inlinecount:
        count = int(
            store_query(
                f"SELECT COUNT(*) FROM {request.source_sql} WHERE "  # noqa: S608 - identifiers from the catalog, values bound
                + (" AND ".join(base_conditions) or "1"),
                base_params,
            )[0][0]
        )
    return Page(fields, rows, next_token, next_top, count)


def select_columns(
    entity: Entity, fields: tuple[Field, ...], request: PageRequest, as_json: bool
) -> tuple[str, list[Any]]:
    """The SELECT list: one JSON text per row for JSON, raw columns for Atom.

    When every field is selected, the pre-serialised members are concatenated (fast path);
    otherwise SQLite's json_object builds the selected members.
    """
    added = request.drift.added if request.drift is not None else {}
    if not as_json:
        columns = (sql_text(added[f.name]) if f.name in added else quote(f.name) for f in fields)
        return ", ".join(columns), []
    names = {f.name for f in fields}
    fragment = request.fragment_fields
    if fragment is not None and names - {"Timestamp"} == fragment and not added:
        key = entity.field(entity.key)
        opening, closing = key_literal(key.edm, "\x00").split("\x00")
        metadata = (
            '\'{"__metadata":{"uri":"\' || ? || '
            + sql_text(f"({opening}")
            + f" || {quote(key.name)} || "
            + sql_text(f'{closing})","type":"{entity.metadata_type}"}},')
        )
        timestamp = ""
        if "Timestamp" in names:
            timestamp = (
                ' || \',"Timestamp":"\' || "Timestamp" || \'"\''
                if request.int64_as_string
                else ' || \',"Timestamp":\' || "Timestamp"'
            )
        uri_prefix = json.dumps(request.uri_prefix)[1:-1]
        return f"{metadata} || {JSON_COLUMN}{timestamp} || '}}'", [uri_prefix]
    pairs = [
        "'__metadata', json_object('uri', "
        + uri_sql(entity)
        + f", 'type', '{entity.metadata_type}')"
    ]
    pairs.extend(
        f"'{f.name}', {sql_text(added[f.name])}"
        if f.name in added
        else f"'{f.name}', {field_json_sql(f, int64_as_string=request.int64_as_string)}"
        for f in fields
    )
    return f"'{{' || {json_members_sql(pairs)} || '}}'", [request.uri_prefix]


def sql_text(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def parse_orderby(text: str, served: dict[str, Field]) -> list[tuple[Field, bool]]:
    """`$orderby=Code desc, Name` (standard endpoints only)."""
    order: list[tuple[Field, bool]] = []
    for part in text.split(","):
        words = part.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
            raise ODataError(f"Invalid $orderby '{text}'.")
        found = served.get(words[0])
        if found is None:
            raise ODataError(f"No property '{words[0]}' exists in type.")
        order.append((found, len(words) == 2 and words[1] == "desc"))
    return order


def keyset_condition(
    store_query: Any,
    request: PageRequest,
    order: list[tuple[Field, bool]],
    paging_field: Field,
    token_value: Any,
) -> tuple[str, list[Any]]:
    """Continue after the skiptoken row under an `$orderby` (SQLite sorts NULL first)."""
    columns = ", ".join(quote(f.name) for f, _ in order)
    division_sql = "Division = ? AND " if request.division_filter else ""
    division_params = [request.division] if request.division_filter else []
    found = store_query(
        f"SELECT {columns} FROM {request.source_sql}"  # noqa: S608 - identifiers from the catalog, values bound
        f" WHERE {division_sql}{quote(paging_field.name)} = ?",
        [*division_params, token_value],
    )
    if not found:
        raise ODataError(f"Invalid $skiptoken '{request.options.skiptoken}'.")
    last = found[0]
    alternatives: list[str] = []
    params: list[Any] = []
    for index, (current, desc) in enumerate(order):
        parts: list[str] = []
        for (previous, _), value in zip(order[:index], last[:index], strict=True):
            parts.append(f"{quote(previous.name)} IS ?")
            params.append(value)
        column, value = quote(current.name), last[index]
        if value is None:
            parts.append("0" if desc else f"{column} IS NOT NULL")
        else:
            parts.append(f"({column} < ? OR {column} IS NULL)" if desc else f"{column} > ?")
            params.append(value)
        alternatives.append("(" + " AND ".join(parts) + ")")
    return "(" + " OR ".join(alternatives) + ")", params


# -- output -------------------------------------------------------------------------------


def next_link(base_url: str, options: QueryOptions, skiptoken: str, next_top: int | None) -> str:
    """`__next`: the same URL, every original option kept, `$skiptoken` set."""
    pairs = []
    for name, value in options.pairs:
        if name == "$skiptoken":
            continue
        kept = str(next_top) if name == "$top" and next_top is not None else value
        pairs.append((name, kept))
    pairs.append(("$skiptoken", skiptoken))
    query = "&".join(
        f"{url_quote(name, safe=NAME_SAFE)}={url_quote(value, safe=VALUE_SAFE)}"
        for name, value in pairs
    )
    return f"{base_url}?{query}"


def json_page(page: Page, next_url: str | None) -> bytes:
    """`{"d": {"results": [...], "__count": "n", "__next": "..."}}` from SQLite-built rows."""
    parts = ['{"d":{"results":[', ",".join(row[0] for row in page.rows), "]"]
    if page.count is not None:
        parts.append(f',"__count":"{page.count}"')
    if next_url is not None:
        parts.append(',"__next":' + json.dumps(next_url))
    parts.append("}}")
    return "".join(parts).encode()


def json_results(rows: list[dict[str, Any]]) -> bytes:
    """A small result set built in Python (Me, SyncTimestamp)."""
    return json.dumps({"d": {"results": rows}}).encode()


def atom_value(found: Field, value: Any) -> str:
    """One `<d:Name>` property element."""
    tag = f"d:{found.name}"
    type_attr = "" if found.edm is Edm.STRING else f' m:type="{found.edm.value}"'
    if value is None:
        return f'<{tag}{type_attr} m:null="true" />'
    if found.edm is Edm.DATETIME:
        text = wall_ms_to_iso(int(value))
    elif found.edm is Edm.BOOLEAN:
        text = "true" if value else "false"
    else:
        text = escape(str(value))
    return f"<{tag}{type_attr}>{text}</{tag}>"


def atom_feed(
    entity: Entity,
    *,
    page: Page,
    uri_prefix: str,
    feed_url: str,
    next_url: str | None,
    updated: str,
) -> bytes:
    """The Atom XML Exact sends when the client does not ask for JSON."""
    key_index = next(
        (i for i, f in enumerate(page.fields) if f.name == entity.key),
        None,
    )
    key_edm = entity.field(entity.key).edm
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<feed xml:base="{escape(uri_prefix)}" {ATOM_NS}>',
        f'<id>{escape(feed_url)}</id><title type="text">{entity.name}</title>',
        f'<updated>{updated}</updated><link rel="self" title="{entity.name}"'
        f' href="{entity.name}" />',
    ]
    if page.count is not None:
        out.append(f"<m:count>{page.count}</m:count>")
    for row in page.rows:
        uri = uri_prefix
        if key_index is not None:
            uri = f"{uri_prefix}({key_literal(key_edm, row[key_index])})"
        properties = "".join(
            atom_value(found, value) for found, value in zip(page.fields, row, strict=False)
        )
        out.append(
            f'<entry><id>{escape(uri)}</id><title type="text"></title><updated>{updated}'
            f'</updated><author><name /></author><link rel="edit" title="{entity.name}"'
            f' href="{escape(uri)}" /><category term="{entity.metadata_type}"'
            ' scheme="http://schemas.microsoft.com/ado/2007/08/dataservices/scheme" />'
            f'<content type="application/xml"><m:properties>{properties}</m:properties>'
            "</content></entry>"
        )
    if next_url is not None:
        out.append(f'<link rel="next" href="{escape(next_url)}" />')
    out.append("</feed>")
    return "".join(out).encode()


def atom_single(entity: Entity, fields: tuple[Field, ...], row: dict[str, Any]) -> bytes:
    """A small Atom feed built from Python values (Me, SyncTimestamp)."""
    raw = tuple(row.get(f.name) for f in fields)
    page = Page(fields, [raw], None, None, None)
    return atom_feed(
        entity, page=page, uri_prefix="", feed_url=entity.name, next_url=None, updated=""
    )
