"""The api schema's registry at work: COMMENT ON statements and the generated data dictionary."""

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from warehouse import descriptions
from warehouse.schema import metadata

DOC = Path(__file__).resolve().parent.parent / "docs" / "downstream.md"
BEGIN, END = "<!-- data-dictionary:begin (generated: python -m warehouse.api --write) -->", \
    "<!-- data-dictionary:end -->"
# Contract and downstream tables shown in the dictionary, in this order.
DICTIONARY_TABLES = (
    "core.person", "core.person_xref", "core.employer", "core.employer_xref",
    "core.person_id_history", "core.employer_id_history", "core.link_override",
    "core.link_override_applied", "core.person_match_edge", "core.employer_match_edge",
    "core.person_version", "core.employer_version", "core.person_xref_version",
    "core.employer_xref_version", "mart.anomaly_flag", "mart.quota_compliance",
    "review.decision", "review.access_log", "ops.chain_head", "ops.audit_checkpoint",
)


@dataclass(frozen=True)
class ApiColumn:
    """One column of an api view, as the registry describes it."""

    name: str
    description: str
    pii: str | None
    type: str


def api_columns(view: str) -> list[ApiColumn]:
    """The registry's columns of api.<view>, references to table columns resolved."""
    _comment, columns = descriptions.API_VIEWS[view]
    out = []
    for name, spec in columns.items():
        if isinstance(spec, str) and spec.count(".") == 2 and " " not in spec:
            schema, table, col = spec.split(".")
            column = metadata.tables[f"{schema}.{table}"].c[col]
            out.append(ApiColumn(name, column.comment or "", column.info.get("pii"), type_name(column)))
        elif isinstance(spec, str):
            out.append(ApiColumn(name, spec, None, descriptions.API_TYPES[name]))
        else:
            out.append(ApiColumn(name, spec[0], spec[1], descriptions.API_TYPES[name]))
    return out


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def comment_statements(conn: Connection) -> list[str]:
    """COMMENT ON for every schema, described table and column, api view, column and function."""
    stmts = [f"comment on schema {s} is {_lit(c)}" for s, c in descriptions.SCHEMA_COMMENTS.items()]
    existing = {tuple(r) for r in conn.execute(sa.text(
        "select table_schema, table_name, column_name from information_schema.columns"))}
    for table in metadata.tables.values():
        if (table.schema, table.name, next(iter(table.c.keys()))) not in existing:
            continue
        if table.comment:
            stmts.append(f'comment on table {table.schema}."{table.name}" is {_lit(table.comment)}')
        for col in table.c:
            if col.comment and (table.schema, table.name, col.name) in existing:
                stmts.append(f'comment on column {table.schema}."{table.name}"."{col.name}" '
                             f"is {_lit(col.comment)}")
    for view, columns in descriptions.CORE_VIEWS.items():
        schema, name = view.split(".")
        stmts += [f'comment on column {view}."{c}" is {_lit(t)}' for c, t in columns.items()
                  if (schema, name, c) in existing]
    for view, (comment, _cols) in descriptions.API_VIEWS.items():
        if ("api", view, api_columns(view)[0].name) not in existing:
            continue
        stmts.append(f"comment on view api.{view} is {_lit(comment)}")
        for col in api_columns(view):
            if ("api", view, col.name) in existing:
                text = col.description + (f" — personal data, masked: {descriptions.MASKING[col.pii]}"
                                          if col.pii else "")
                stmts.append(f'comment on column api.{view}."{col.name}" is {_lit(text)}')
    functions = set(conn.execute(sa.text(
        "select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace "
        "where n.nspname = 'api'")).scalars())
    for signature, comment in {**descriptions.API_FUNCTIONS, **_version_functions()}.items():
        full = f"api.{signature}"
        if full in functions:
            stmts.append(f"comment on function {full} is {_lit(comment)}")
    return stmts


def _version_functions() -> dict[str, str]:
    return getattr(descriptions, "API_AS_OF_FUNCTIONS", {})


def apply_comments(conn: Connection) -> None:
    """Write every comment of the registry to the warehouse."""
    for stmt in comment_statements(conn):
        conn.execute(sa.text(stmt))


_PG_NAMES = {"timestamp with time zone": "timestamp with time zone", "float": "double precision",
             "bigint": "bigint", "jsonb": "jsonb"}


def type_name(column: sa.Column) -> str:
    """The column's type as PostgreSQL's format_type() names it."""
    rendered = str(column.type.compile(dialect=postgresql.dialect())).lower()
    if rendered.startswith("timestamp") and "with time zone" in rendered:
        return "timestamp with time zone"
    rendered = rendered.replace("numeric(", "numeric(").replace(", ", ",")
    return _PG_NAMES.get(rendered, rendered)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_dictionary() -> str:
    """The data dictionary (markdown) from the registry: api views first, then tables."""
    out = ["## Schemas", "", "| schema | what it holds |", "|---|---|"]
    out += [f"| `{s}` | {_cell(c)} |" for s, c in descriptions.SCHEMA_COMMENTS.items()]
    out += ["", "## The `api` schema", "",
            "Masked for `quotalink_reader` and the city roles, in clear for `quotalink_pii_reader`.", ""]
    for view, (comment, _cols) in descriptions.API_VIEWS.items():
        out += [f"### `api.{view}`", "", _cell(comment), "",
                "| column | type | meaning | personal data | masked as |", "|---|---|---|---|---|"]
        for col in api_columns(view):
            masked = descriptions.MASKING[col.pii].split(": ", 1)[-1] if col.pii else ""
            out.append(f"| `{col.name}` | {col.type} | {_cell(col.description)} "
                       f"| {'yes' if col.pii else ''} | {_cell(masked)} |")
        out.append("")
    as_of = _version_functions()
    if as_of:
        out += ["### Functions", "", "| function | returns |", "|---|---|"]
        out += [f"| `api.{sig}` | {_cell(c)} |" for sig, c in as_of.items()]
        out.append("")
    out += ["### Helper functions", "", "| function | does |", "|---|---|"]
    out += [f"| `api.{sig}` | {_cell(c)} |" for sig, c in descriptions.API_FUNCTIONS.items()]
    out += ["", "## Tables (warehouse contract and downstream)", "",
            "Downstream systems read the `api` views; these tables are what they are built on.", ""]
    for name in DICTIONARY_TABLES:
        table = metadata.tables.get(name)
        if table is None:
            continue
        out += [f"### `{name}`", "", _cell(table.comment or ""), "",
                "| column | type | meaning | personal data |", "|---|---|---|---|"]
        for col in table.c:
            pii = col.info.get("pii")
            out.append(f"| `{col.name}` | {type_name(col)} | {_cell(col.comment or '')} "
                       f"| {pii.replace('_', ' ') if pii else ''} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def write_dictionary(path: Path = DOC) -> bool:
    """Replace the generated part of docs/downstream.md; True when it changed."""
    text = path.read_text(encoding="utf-8")
    head, _, rest = text.partition(BEGIN)
    _old, _, tail = rest.partition(END)
    new = f"{head}{BEGIN}\n\n{render_dictionary()}\n{END}{tail}"
    if new != text:
        path.write_text(new, encoding="utf-8")
        return True
    return False


def dictionary_is_current(path: Path = DOC) -> bool:
    """Whether docs/downstream.md holds the dictionary the registry generates today."""
    text = path.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        return False
    generated = text.split(BEGIN, 1)[1].split(END, 1)[0]
    return generated.strip() == render_dictionary().strip()


def main(argv: list[str] | None = None) -> int:
    """`python -m warehouse.api --write` regenerates docs/downstream.md; `--check` tests it."""
    parser = argparse.ArgumentParser(prog="python -m warehouse.api", description=main.__doc__)
    parser.add_argument("--write", action="store_true", help="rewrite the generated section")
    parser.add_argument("--check", action="store_true", help="exit 1 when the doc is stale")
    args = parser.parse_args(argv)
    if args.write:
        print("docs/downstream.md " + ("updated" if write_dictionary() else "already current"))
        return 0
    if args.check:
        current = dictionary_is_current()
        print("docs/downstream.md is " + ("current" if current else
                                           "stale: run python -m warehouse.api --write"))
        return 0 if current else 1
    sys.stdout.write(render_dictionary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
