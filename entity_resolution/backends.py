"""Splink database back-ends: DuckDB in process (default) or Spark, chosen by a setting."""

import os
import uuid
from typing import Any

ENGINES = ("duckdb", "spark")


def make_db_api(engine: str = "duckdb", **options: Any):
    """A fresh Splink database API for one model run (never share one between models).

    A fresh API per run matters: Splink caches term-frequency tables per API by column
    name, so a second model on the same API would silently reuse the first one's.
    """
    if engine == "duckdb":
        import duckdb
        from splink import DuckDBAPI

        con = duckdb.connect(":memory:")
        # Offline hardening: never fetch an extension from the network mid-run.
        con.execute("SET autoinstall_known_extensions = false")
        threads = options.get("threads") or min(os.cpu_count() or 2, 4)
        con.execute(f"SET threads = {int(threads)}")
        if options.get("memory_limit"):
            con.execute(f"SET memory_limit = '{options['memory_limit']}'")
        return DuckDBAPI(connection=con)
    if engine == "spark":
        from splink import SparkAPI

        return SparkAPI(spark_session=spark_session(**options), break_lineage_method="parquet")
    raise ValueError(f"unknown entity-resolution engine {engine!r}; expected one of {ENGINES}")


def spark_session(**options: Any):
    """A local Spark session with Splink's similarity UDF jar (pyspark is optional)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ImportError(
            "QUOTALINK_ER_ENGINE=spark needs pyspark: pip install 'pyspark==4.3.*' "
            "(and Java 17 on the PATH)"
        ) from exc
    from splink.backends.spark import similarity_jar_location

    master = options.get("master", "local[2]")
    checkpoint_dir = options.get("checkpoint_dir", "/tmp/quotalink-spark-checkpoints")
    spark = (
        SparkSession.builder.master(master)
        .appName("quotalink-er")
        .config("spark.jars", similarity_jar_location())
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", str(options.get("partitions", 4)))
        .config("spark.default.parallelism", str(options.get("partitions", 4)))
        .config("spark.driver.memory", options.get("driver_memory", "2g"))
        .getOrCreate()
    )
    spark.sparkContext.setCheckpointDir(checkpoint_dir)
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def register(db_api, frame, name: str):
    """Register a pandas frame with the back-end (Spark gets Arrow, not pandas 3).

    Names get a unique suffix: a Spark session outlives one linker and keeps its views.
    """
    name = f"{name}_{uuid.uuid4().hex[:8]}"
    if db_api.sql_dialect.sql_dialect_str == "spark":
        import pyarrow as pa

        table = pa.Table.from_pandas(frame, preserve_index=False)
        spark_df = db_api.spark.createDataFrame(table)
        return db_api.register(spark_df, dataset_display_name=name)
    return db_api.register(frame, dataset_display_name=name)


# Term frequencies estimated from fewer mentions than this are blended with the model's
# average u: a small run (a test, a small batch) must not read "1 in 9" as a frequency.
TF_FULL_RECORDS = 10_000


def tf_columns(settings: dict) -> dict[str, float | None]:
    """Columns with term-frequency adjustments → the u of their exact level (the prior)."""
    found: dict[str, float | None] = {}
    for comparison in settings.get("comparisons", []):
        for level in comparison.get("comparison_levels", []):
            col = level.get("tf_adjustment_column")
            if col and col not in found:
                found[col] = level.get("u_probability")
    return found


def register_term_frequencies(linker, db_api, frame, key: str, settings: dict,
                              tables: dict | None = None) -> dict:
    """Term frequencies counted once per entity (exact key), not once per mention.

    A person or employer appears in several sources and years; counted per mention, a
    name unique to one entity would look as common as a name shared by several, and the
    exact-name weight would be understated. Returns the tables (column → frame); given
    `tables` (from an earlier call), registers those instead of counting again, so a
    second linker over part of the records scores exactly as the first.
    """
    if tables is None:
        tables = term_frequency_tables(frame, key, settings)
    for col, table in tables.items():
        sdf = register(db_api, table, f"tf_{col}")
        linker.table_management.register_term_frequency_lookup(sdf, col)
    return tables


def term_frequency_tables(frame, key: str, settings: dict) -> dict:
    """Column → (value, tf_<column>) frame for each term-frequency-adjusted column."""
    import pandas as pd

    has_key = frame[key].notna()
    tables = {}
    for col, prior in tf_columns(settings).items():
        per_entity = pd.concat([
            frame.loc[has_key, [key, col]].drop_duplicates(),
            frame.loc[~has_key, [key, col]],
        ])[col].dropna()
        if per_entity.empty:
            continue
        counts = per_entity.value_counts()
        prior = prior if prior else 1.0 / max(len(counts), 1)
        share = min(1.0, counts.sum() / TF_FULL_RECORDS)
        tf = share * counts.to_numpy() / counts.sum() + (1.0 - share) * prior
        tables[col] = pd.DataFrame({col: counts.index.astype(str), f"tf_{col}": tf})
    return tables
