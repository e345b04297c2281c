"""Asset keys from the declarations: what each source stages, what each step reads."""

import dagster as dg

from connectors.registry import raw_tables, staged_tables, staging_writers


def staging_key(table: str, source: str) -> dg.AssetKey:
    """The asset of a source's rows in a staging table.

    A table only one source stages is that source's asset (``staging/certificate``); a table
    several sources stage (the mentions) is one asset per source
    (``staging/person_mention/quota``), so a failed source blocks only its own part.
    """
    schema, name = table.split(".")
    if len(staging_writers()[table]) == 1:
        return dg.AssetKey([schema, name])
    return dg.AssetKey([schema, name, source])


def staging_specs(source: str) -> list[dg.AssetSpec]:
    """One spec per staging table the source declares, depending on its raw tables."""
    return [
        dg.AssetSpec(
            staging_key(table, source), group_name="staging", kinds={"postgres"},
            deps=[dg.AssetKey(["raw", r.table]) for r in raw_tables(source) if table in r.stages],
            description=f"{source}'s rows in {table}",
            metadata={"table": table, "source": source},
        )
        for table in staged_tables(source)
    ]


def keys_read(tables: tuple[str, ...] | list[str], produced: set[dg.AssetKey]) -> list[dg.AssetKey]:
    """The asset keys behind the warehouse tables a step declares it reads.

    A staging table maps to every source's part of it; other tables map to their asset
    when one produces them (tables written outside the pipeline, such as the auditors'
    ``core.link_override``, are no asset and no dependency).
    """
    writers = staging_writers()
    keys: list[dg.AssetKey] = []
    for table in tables:
        schema, name = table.split(".")
        if schema == "staging":
            if table not in writers:
                raise ValueError(f"{table} is read but no source declares it in its stages")
            keys += [staging_key(table, s) for s in writers[table]]
        elif dg.AssetKey([schema, name]) in produced:
            keys.append(dg.AssetKey([schema, name]))
    return list(dict.fromkeys(keys))


def table_of(key: dg.AssetKey) -> tuple[str, str | None]:
    """The warehouse table of an asset key and, for a source's part, the source."""
    path = key.path
    return ".".join(path[:2]), (path[2] if len(path) > 2 else None)
