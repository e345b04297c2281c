"""Benchmark: a generated province end to end, per stage, against the COPY and Splink floors.

Usage:  .venv/bin/python bench/bench_province.py [--persons 250000] [--json]
        .venv/bin/python bench/bench_province.py --check-linear 1500 15000

One run: generate a province of --persons persons (seed --seed, not timed), create a fresh
PostgreSQL database, then in separate processes:
  * full   — `quotalink run`; per stage (the step lines it prints): time, rows in and out
             (from the ledger and the tables), peak RSS of the process tree during the stage;
  * floor  — PostgreSQL COPY of the same deliveries, converted to CSV beforehand (not timed);
  * splink — bare Splink predict + cluster on the run's person and employer mentions, each
             against its resolve stage (same features, model and threshold; bench_er.py);
  * rerun  — `quotalink run` again, nothing new delivered;
  * month  — `quotalink run` after one more month (`quotalink generate --as-of 202611`).
--check-linear A B runs the full pipeline at two sizes and fails (exit 1) when a stage
takes more than 12x as long at the size B = 10·A (stages under --floor seconds ignored).
"""

import argparse
import csv
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SERVER = os.environ.get("BENCH_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
STEP_RE = re.compile(r"^[✓✗] (?P<name>.+?) (?:failed after )?\(?(?P<s>[0-9.]+)s\)?(?:: (?P<extra>.*))?$")
START_RE = re.compile(r"^▶ (?P<name>.+) …$")
SKIP_RE = re.compile(r"^· (?P<name>.+) skipped: ")


def _tree_rss(proc) -> int:
    """Resident memory of a process and all its children, bytes."""
    import psutil

    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def run_pipeline(env: dict, log: Path) -> dict:
    """`quotalink run` in a child process: wall time, per-step seconds and peak tree RSS."""
    import psutil

    t0 = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "orchestration.cli", "run"], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    ps = psutil.Process(child.pid)
    steps: dict[str, dict] = {}
    current = ["start-up"]
    peak = {"start-up": 0}
    done = threading.Event()

    def sample():
        while not done.is_set():
            rss = _tree_rss(ps)
            peak[current[0]] = max(peak.get(current[0], 0), rss)
            done.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    with log.open("w") as out:
        for line in child.stdout:
            out.write(line)
            out.flush()
            line = re.sub(r"\x1b\[[0-9;]*m", "", line.rstrip("\n"))
            if m := START_RE.match(line):
                current[0] = m["name"]
                peak.setdefault(m["name"], 0)
            elif m := SKIP_RE.match(line):
                steps[m["name"]] = {"seconds": 0.0, "summary": "skipped", "failed": False}
            elif m := STEP_RE.match(line):
                steps[m["name"]] = {"seconds": float(m["s"]), "summary": m["extra"] or "",
                                    "failed": line.startswith("✗")}
                current[0] = "between steps"
    rc = child.wait()
    done.set()
    sampler.join()
    for name, s in steps.items():
        s["peak_rss_mb"] = round(peak.get(name, 0) / 2**20)
    return {"seconds": round(time.perf_counter() - t0, 1), "rc": rc, "steps": steps,
            "peak_rss_mb": round(max(peak.values()) / 2**20)}


def _counts(engine) -> dict:
    """Rows in and out of each stage, read from the warehouse after the run."""
    import sqlalchemy as sa

    from connectors.registry import raw_tables
    from quotalink.contracts import SOURCES

    out: dict[str, tuple] = {}
    with engine.connect() as conn:
        q = lambda sql, **kw: conn.execute(sa.text(sql), kw).scalar() or 0  # noqa: E731
        for s in SOURCES:
            read = q("select sum(rows_read) from ops.load_audit where source = :s", s=s)
            loaded = q("select sum(rows_loaded) from ops.load_audit where source = :s", s=s)
            out[f"load {s}"] = (read, loaded)
            raw = sum(q(f"select count(*) from raw.{t.table}") for t in raw_tables(s))
            out[f"stage {s}"] = (raw, q("select count(*) from staging.person_mention where source = :s", s=s)
                                 + q("select count(*) from staging.employer_mention where source = :s", s=s))
        out["resolve persons"] = (q("select count(*) from staging.person_mention"),
                                  q("select count(*) from core.person"))
        out["resolve employers"] = (q("select count(*) from staging.employer_mention"),
                                    q("select count(*) from core.employer"))
        out["audit rules"] = (q("select count(*) from staging.declared_employment"),
                              q("select count(*) from mart.anomaly_flag"))
        out["quota compliance and levy"] = (q("select count(*) from staging.declaration"),
                                            q("select count(*) from mart.quota_compliance"))
    return out


def _csv_of_deliveries(sources: Path, out: Path) -> list[tuple[str, Path, int]]:
    """Every delivery as a CSV file (header, text): (name, path, rows)."""
    import openpyxl

    out.mkdir(parents=True, exist_ok=True)
    files: list[tuple[str, Path, int]] = []
    for f in sorted(sources.rglob("*")):
        if not f.is_file() or f.suffix == ".ok":
            continue
        name = f"{f.parent.name}__{f.stem}"
        if f.suffix == ".csv":
            data = f.read_bytes()
            try:
                data.decode("utf-8-sig")
            except UnicodeDecodeError:  # GB18030 deliveries: COPY takes them as UTF-8
                (out / f"{name}.csv").write_bytes(data.decode("gb18030").encode("utf-8"))
                f = out / f"{name}.csv"
            files.append((name, f, data.count(b"\n") - 1))
        elif f.suffix == ".xlsx":
            rows = _xlsx_rows(openpyxl.load_workbook(f, read_only=True))
            _write_csv(out / f"{name}.csv", rows)
            files.append((name, out / f"{name}.csv", len(rows) - 1))
        elif f.suffix == ".jsonl":
            recs = [json.loads(line) for line in f.open(encoding="utf-8") if line.strip()]
            keys = sorted({k for r in recs for k in r})
            _write_csv(out / f"{name}.csv", [keys, *([json.dumps(r.get(k), ensure_ascii=False)
                                                      if isinstance(r.get(k), (dict, list)) else r.get(k)
                                                      for k in keys] for r in recs)])
            files.append((name, out / f"{name}.csv", len(recs)))
        elif f.suffix == ".db":
            con = sqlite3.connect(f)
            for (table,) in con.execute("select name from sqlite_master where type = 'table'"):
                cur = con.execute(f'select * from "{table}"')
                rows = [[d[0] for d in cur.description], *cur]
                _write_csv(out / f"hr__{table}.csv", rows)
                files.append((f"hr__{table}", out / f"hr__{table}.csv", len(rows) - 1))
            con.close()
    return files


def _xlsx_rows(wb) -> list[list]:
    """One header and the data rows of every sheet: a title row above the header (one cell)
    is skipped, rows are cut or padded to the header's width."""
    header: list | None = None
    out: list[list] = []
    for ws in wb.worksheets:
        seen = False
        for row in ws.iter_rows(values_only=True):
            if not seen:
                if sum(v is not None and str(v).strip() != "" for v in row) >= 2:
                    seen = True
                    if header is None:
                        header = [v for v in row if v is not None]
                continue
            if all(v is None for v in row):
                continue
            width = len(header or row)
            out.append((list(row) + [None] * width)[:width])
    return [header or [], *out]


def _write_csv(path: Path, rows) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)


def copy_floor(url: str, sources: Path, scratch: Path) -> dict:
    """Seconds for PostgreSQL COPY of every delivery (as CSV, into text tables)."""
    import psycopg2

    files = _csv_of_deliveries(sources, scratch)
    dsn = url.replace("postgresql+psycopg2://", "postgresql://")
    conn = psycopg2.connect(dsn)
    cur = conn.cursor()
    cur.execute("create schema if not exists bench_floor")
    seconds, rows = 0.0, 0
    for i, (_name, path, n) in enumerate(files):
        with path.open(encoding="utf-8-sig") as fh:
            header = next(csv.reader(fh))
        table = f"bench_floor.t{i}"
        cur.execute(f"create unlogged table {table} ({', '.join(f'c{j} text' for j in range(len(header)))})")
        conn.commit()
        with path.open("rb") as fh:
            data = io.BytesIO(fh.read())
        t0 = time.perf_counter()
        cur.copy_expert(f"copy {table} from stdin with (format csv, header true)", data)
        conn.commit()
        seconds += time.perf_counter() - t0
        rows += n
    cur.execute("drop schema bench_floor cascade")
    conn.commit()
    conn.close()
    return {"seconds": round(seconds, 1), "rows": rows, "files": len(files)}


def bare_splink(engine, scratch: Path, er_engine: str) -> dict:
    """Bare Splink predict + cluster on the warehouse's person and employer mentions.

    Fair to the pipeline's stage: the same mentions read as the stage reads them, the same
    features (prepare_persons / prepare_employers), the same model, blocking rules and
    threshold; each kind in a fresh process (bench_er.py --mode bare). Not counted in the
    bare figure: reading staging, the features, and writing anything back.
    """
    from entity_resolution import rules
    from entity_resolution.pipeline import KINDS, _read_bulk

    out: dict = {}
    for kind in ("person", "employer"):
        spec = KINDS[kind]
        path = scratch / kind
        path.mkdir(parents=True, exist_ok=True)
        with engine.connect() as conn:
            mentions = _read_bulk(conn, f"SELECT {', '.join(spec.columns)} FROM {spec.staging}")
        features = spec.prepare(mentions)
        features[rules.profile(kind).model_columns].to_parquet(path / "features.parquet",
                                                               index=False)
        proc = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_er.py"), "--mode",
                               "bare", "--kind", kind, "--path", str(path), "--engine", er_engine],
                              capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
        if proc.returncode:
            out[kind] = {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"}
            continue
        out[kind] = json.loads(proc.stdout.strip().splitlines()[-1])
        out[kind]["mentions"] = len(mentions)
    return out


def generate(persons: int, seed: int, root: Path, as_of: str = "202610") -> float:
    """Write a province (deliveries and truth) under root; seconds taken."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "orchestration.cli", "generate", "--persons", str(persons),
                    "--seed", str(seed), "--out", str(root / "sources"), "--truth", str(root / "truth"),
                    "--as-of", as_of, "--quiet"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    return round(time.perf_counter() - t0, 1)


def province(persons: int, seed: int, work: Path, *, floor: bool, splink: bool, rerun: bool,
             month: bool, er_engine: str, reuse: bool = False, keep_db: bool = False) -> dict:
    """Generate, run, measure; the database is dropped afterwards (unless `keep_db`)."""
    import sqlalchemy as sa

    result: dict = {"persons": persons, "seed": seed, "load_average": os.getloadavg()}
    if not (reuse and (work / "p" / "sources").exists()):
        result["generate_seconds"] = generate(persons, seed, work / "p")
    name = f"ql_bench_{os.getpid()}_{persons}"
    admin = sa.create_engine(SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
        conn.execute(sa.text(f'create database "{name}"'))
    url = sa.engine.make_url(SERVER).set(database=name).render_as_string(hide_password=False)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "WAREHOUSE_URL": url,
           "SOURCES_DIR": str(work / "p" / "sources"), "QUOTALINK_VAR_DIR": str(work / "var"),
           "DAGSTER_HOME": str(work / "dagster"), "QUOTALINK_ER_ENGINE": er_engine,
           "QUOTALINK_PROGRESS": "1", "COLUMNS": "200", "TERM": "dumb"}
    for k in ("QUOTA_API_URL", "HR_DB_URL", "TRUTH_DIR"):
        env.pop(k, None)
    engine = sa.create_engine(url)

    def phase(key, fn):
        # One failing part of the bench keeps the figures of the others.
        try:
            result[key] = fn()
        except Exception as exc:  # noqa: BLE001 - reported in the result
            result[key] = {"error": f"{type(exc).__name__}: {exc}"}
        (work / "result.json").write_text(json.dumps(result, ensure_ascii=False, indent=2))

    try:
        result["full"] = run_pipeline(env, work / "full.log")
        for stage, (n_in, n_out) in _counts(engine).items():
            if stage in result["full"]["steps"]:
                result["full"]["steps"][stage].update(rows_in=n_in, rows_out=n_out)
        (work / "result.json").write_text(json.dumps(result, ensure_ascii=False, indent=2))
        if floor:
            phase("copy_floor", lambda: copy_floor(url, work / "p" / "sources", work / "csv"))
            load = sum(s["seconds"] for k, s in result["full"]["steps"].items() if k.startswith("load "))
            if "seconds" in result["copy_floor"]:
                result["copy_floor"]["landing_vs_floor"] = round(load / max(result["copy_floor"]["seconds"], 0.01), 1)
        if splink:
            phase("bare_splink", lambda: bare_splink(engine, work / "er", er_engine))
            for kind, bare in result["bare_splink"].items():
                ours = result["full"]["steps"].get(f"resolve {kind}s", {}).get("seconds")
                if ours and isinstance(bare, dict) and "seconds" in bare:
                    bare["resolve_vs_bare"] = round(ours / bare["seconds"], 2)
        if rerun:
            result["rerun"] = run_pipeline(env, work / "rerun.log")
            result["rerun"]["share_of_full"] = round(result["rerun"]["seconds"] / result["full"]["seconds"], 3)
        if month:
            if not (reuse and (work / "p2" / "sources").exists()):
                result["month_generate_seconds"] = generate(persons, seed, work / "p2", as_of="202611")
            env["SOURCES_DIR"] = str(work / "p2" / "sources")
            result["month"] = run_pipeline(env, work / "month.log")
            result["month"]["share_of_full"] = round(result["month"]["seconds"] / result["full"]["seconds"], 3)
        (work / "result.json").write_text(json.dumps(result, ensure_ascii=False, indent=2))
    finally:
        engine.dispose()
        if keep_db:
            result["database"] = name
        else:
            with admin.connect() as conn:
                conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()
    result["load_average_after"] = os.getloadavg()
    return result


def print_tables(result: dict) -> None:
    """Rich tables of one province result."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    full = result["full"]
    t = Table(title=f"{result['persons']:,} persons (seed {result['seed']}), load average "
                    f"{' '.join(f'{x:.2f}' for x in result['load_average'])}")
    for col in ("stage", "seconds", "rows in", "rows out", "peak RSS MB", "rerun s", "month s"):
        t.add_column(col, justify="left" if col == "stage" else "right")
    rerun = (result.get("rerun") or {}).get("steps", {})
    month = (result.get("month") or {}).get("steps", {})
    for name, s in full["steps"].items():
        t.add_row(name, f"{s['seconds']:.1f}", f"{s.get('rows_in', ''):,}" if "rows_in" in s else "",
                  f"{s.get('rows_out', ''):,}" if "rows_out" in s else "", str(s["peak_rss_mb"]),
                  f"{rerun[name]['seconds']:.1f}" if name in rerun else "",
                  f"{month[name]['seconds']:.1f}" if name in month else "")
    t.add_row("whole run", f"{full['seconds']:.1f}", "", "", str(full["peak_rss_mb"]),
              str(result.get("rerun", {}).get("seconds", "")), str(result.get("month", {}).get("seconds", "")),
              style="bold")
    console.print(t)
    if "seconds" in result.get("copy_floor", {}):
        f = result["copy_floor"]
        console.print(f"COPY floor: {f['rows']:,} rows in {f['seconds']} s ({f['files']} files); "
                      f"our landing {f['landing_vs_floor']}× that")
    if "bare_splink" in result:
        b = result["bare_splink"]
        console.print(f"bare Splink predict+cluster: {b}")
    for k in ("rerun", "month"):
        if k in result:
            console.print(f"{k}: {result[k]['seconds']} s = {result[k]['share_of_full']:.1%} of the full run "
                          f"(rc {result[k]['rc']})")


def check_linear(small: dict, big: dict, ratio: float, floor: float) -> list[str]:
    """Stages whose time grew more than `ratio`× (both sizes given; sub-floor stages pass)."""
    bad = []
    for name, s in big["full"]["steps"].items():
        base = small["full"]["steps"].get(name)
        if base is None or s["seconds"] < floor:
            continue
        if s["seconds"] > ratio * max(base["seconds"], floor / ratio):  # noqa: SIM102
            bad.append(f"{name}: {base['seconds']:.1f}s → {s['seconds']:.1f}s")
    return bad


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (or the linearity check) and print tables, or JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=250_000, help="certificate holders")
    parser.add_argument("--seed", type=int, default=5, help="generator seed")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--er-engine", default=os.environ.get("QUOTALINK_ER_ENGINE", "duckdb"),
                        help="duckdb or spark")
    parser.add_argument("--no-floor", action="store_true", help="skip the COPY floor")
    parser.add_argument("--no-splink", action="store_true", help="skip bare Splink")
    parser.add_argument("--no-rerun", action="store_true", help="skip the rerun with nothing new")
    parser.add_argument("--no-month", action="store_true", help="skip the run after one more month")
    parser.add_argument("--check-linear", type=int, nargs=2, metavar=("SMALL", "BIG"),
                        help="two sizes; fail when a stage grows more than --ratio× between them")
    parser.add_argument("--ratio", type=float, default=12.0, help="allowed time ratio (10× input)")
    parser.add_argument("--floor", type=float, default=3.0,
                        help="stages under this many seconds at the big size are not judged")
    parser.add_argument("--keep", type=Path, default=None,
                        help="work folder to keep; a province already generated there (p/, p2/) is reused")
    parser.add_argument("--keep-db", action="store_true",
                        help="keep the run's database (its name is in the result) to rerun stages on it")
    args = parser.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="quotalink-province-"))
    try:
        if args.check_linear:
            small_n, big_n = args.check_linear
            kw = dict(floor=False, splink=False, rerun=False, month=False, er_engine=args.er_engine)
            small = province(small_n, args.seed, work / "small", **kw)
            big = province(big_n, args.seed, work / "big", **kw)
            bad = check_linear(small, big, args.ratio, args.floor)
            out = {"small": small, "big": big, "superlinear": bad}
            if args.json:
                print(json.dumps(out, ensure_ascii=False, indent=2))
            else:
                print_tables(small)
                print_tables(big)
                print("superlinear: " + ("; ".join(bad) if bad else "none"))
            return 1 if bad or small["full"]["rc"] or big["full"]["rc"] else 0
        result = province(args.persons, args.seed, work, floor=not args.no_floor,
                          splink=not args.no_splink, rerun=not args.no_rerun,
                          month=not args.no_month, er_engine=args.er_engine, reuse=args.keep is not None,
                          keep_db=args.keep_db)
        if args.json:
            print(json.dumps(result, ensure_ascii=False, indent=2))
        else:
            print_tables(result)
        return result["full"]["rc"]
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
