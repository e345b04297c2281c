"""md5 of every raw and staging table and of the ops ledgers: compare two warehouses that
loaded and staged the same province with two code versions.

    PYTHONPATH=. .venv/bin/python bench/digest_tables.py postgresql://postgres@127.0.0.1:5432/db1 > a
    PYTHONPATH=. .venv/bin/python bench/digest_tables.py postgresql://postgres@127.0.0.1:5432/db2 > b
    diff a b

Rows as text in a total order; load and stage timestamps left out; the pull time in HR window
names (``hr_ac08:start..2026-12-03T06:35:10.287227+00:00``) normalised, since it differs
between any two pulls.
"""

import sys

import psycopg2

SKIP = {"loaded_at", "staged_at", "quarantined_at"}
PULL_TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+\+00:00"
LEDGERS = {
    "ops.load_audit": "select source, delivery, raw_table, content_sha256, rows_read, rows_loaded, "
                      "rows_quarantined, status, quality::text from ops.load_audit",
    "ops.load_audit per source": "select source, sum(rows_read), sum(rows_loaded), sum(rows_quarantined) "
                                 "from ops.load_audit group by source",
    "ops.quarantine": "select source, delivery, row_ref, column_name, reason, raw_content from ops.quarantine",
    "ops.stage_audit": "select source, delivery, raw_table, rows_staged, rows_unparsed::text, "
                       "rows_substituted::text from ops.stage_audit",
    "ops.watermark": "select source, stream, value from ops.watermark",
}


def main(url: str) -> None:
    conn = psycopg2.connect(url)
    cur = conn.cursor()

    def digest(select: str) -> tuple:
        cur.execute("select count(*), md5(coalesce(string_agg(r, E'\\n' order by r), '')) from "
                    f"(select regexp_replace(s::text, %s, 'T', 'g') r from ({select}) s) z", (PULL_TIME,))
        return cur.fetchone()

    cur.execute("select table_schema || '.' || table_name, array_agg(column_name::text order by ordinal_position) "
                "from information_schema.columns where table_schema in ('raw', 'staging') group by 1 order by 1")
    out = {table: digest(f"select {', '.join(chr(34) + c + chr(34) for c in cols if c not in SKIP)} from {table}")
           for table, cols in cur.fetchall()}
    out.update({name: digest(sql) for name, sql in LEDGERS.items()})
    cur.execute("select count(*) from ops.load_audit where rows_read <> rows_loaded + rows_quarantined")
    out["deliveries not reconciled"] = (cur.fetchone()[0], "")
    for name, (rows, md5) in out.items():
        print(f"{name}\t{rows}\t{md5}")


if __name__ == "__main__":
    main(sys.argv[1])
