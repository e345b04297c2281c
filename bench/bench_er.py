"""Benchmark: our person-resolution stage against bare Splink predict + cluster.

Usage:  .venv/bin/python bench/bench_er.py --mentions 100000 1000000 [--engine duckdb]

For each size, synthetic person mentions (staging shape, realistic noise) are written
once and prepared once (standardised features, Parquet); then, each in a fresh process
so peak memory is its own, interleaved and repeated (the fastest run counts):
  * bare   — Splink predict at the model's threshold + Splink connected components;
  * ours   — our stage on the same prepared input: predict, constrained clustering
             (exact keys, overrides), stable IDs, survivorship golden records, xref;
  * ours+prepare — the same from staging-shaped mentions, standardisation included.
Database I/O is excluded from all three (it is the same COPY for any linker).
"""

import argparse
import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红鹏飞玲燕辉鑫斌宇浩凯健俊帆帅旭宁龙林欣佳琪晨阳雪梅丹亮博文海波志春金凤"
COUNTIES = ["370102", "370103", "370104", "370105", "370112", "370202", "370203", "370211",
            "370302", "370303", "370402", "370502", "370602", "370702", "370811", "370902",
            "371002", "371102", "371302", "371402", "371502", "371602", "371702"]
SOURCES = ["quota", "hr", "employment_service", "training", "graduates", "org",
           "unemployed_survey"]


def simulate_mentions(n_mentions: int, seed: int = 7):
    """Staging-shaped person mentions (~3.5 per person) and their true person."""
    import pandas as pd

    from quotalink.standardise import check_character, normalise_id

    rng = random.Random(seed)
    rows: list[dict] = []
    truth: list[str] = []
    pid = 0
    while len(rows) < n_mentions:
        pid += 1
        county = rng.choice(COUNTIES)
        born = dt.date(1960, 1, 1) + dt.timedelta(days=rng.randint(0, 365 * 45))
        male = rng.random() < 0.55
        seq = rng.randint(0, 99) * 10 + rng.choice([1, 3, 5, 7, 9] if male else [0, 2, 4, 6, 8])
        core = f"{county}{born:%Y%m%d}{seq:03d}"
        idn = core + check_character(core)
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2])))
        phone = "1" + rng.choice("358") + "".join(rng.choice("0123456789") for _ in range(9))
        cat, lvl = rng.randint(1, 7), rng.randint(1, 4)
        cert = idn + str(cat) + str(lvl)
        gender = "M" if male else "F"
        rows.append(dict(source="disability_registry", source_key=cert, full_name=name,
                         id_number_raw=idn, cert_number=cert, gender=gender,
                         birth_date=born, phone=phone, hukou_region_code=county,
                         disability_category=cat, disability_level=lvl))
        truth.append(str(pid))
        for k, source in enumerate(rng.sample(SOURCES, rng.randint(1, 4))):
            r = rng.random()
            raw = idn
            if r < 0.04:
                i = rng.randint(6, 16)
                raw = idn[:i] + str((int(idn[i]) + rng.randint(1, 9)) % 10) + idn[i + 1:]
            elif r < 0.10:
                raw = None
            row = dict(source=source, source_key=f"{source}-{pid}-{k}", full_name=name,
                       id_number_raw=raw, gender=gender)
            if source in ("hr", "org"):
                row["birth_date"] = born
            if source in ("hr", "employment_service", "training", "unemployed_survey"):
                row["phone"] = phone
            if source in ("quota", "employment_service", "unemployed_survey"):
                row["cert_number"] = cert if rng.random() < 0.6 else None
                row["disability_category"], row["disability_level"] = cat, lvl
            if source == "training":
                row["birth_year_min"], row["birth_year_max"] = born.year - 1, born.year
            rows.append(row)
            truth.append(str(pid))
    df = pd.DataFrame(rows[:n_mentions])
    parsed = [normalise_id(v) for v in df["id_number_raw"]]
    df["id_number"] = [p.value for p in parsed]
    df["id_quality"] = [p.quality for p in parsed]
    df["observed_on"] = dt.date(2026, 10, 31)
    for col in ("disability_category", "disability_level", "birth_year_min", "birth_year_max"):
        df[col] = df[col].astype("Int64")
    return df, truth[:n_mentions]


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_mode(mode: str, path: Path, engine: str, kind: str = "person") -> dict:
    """One measured run in this process (bare: of either kind's model)."""
    import pandas as pd

    from entity_resolution.model import load_model

    model = load_model(kind)
    if mode == "bare":
        from splink import Linker

        from entity_resolution.backends import make_db_api, register

        features = pd.read_parquet(path / "features.parquet")
        start, cpu = time.perf_counter(), time.process_time()
        db_api = make_db_api(engine)
        # The leanest settings: no retained columns (as our stage does).
        settings = {**model.settings, "retain_matching_columns": False,
                    "retain_intermediate_calculation_columns": False,
                    "additional_columns_to_retain": []}
        linker = Linker(register(db_api, features, "mentions"), settings)
        predictions = linker.inference.predict(threshold_match_probability=model.threshold)
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=model.threshold)
        n_clusters = len(clusters.as_pyarrow_table().column("cluster_id").unique())
        seconds = time.perf_counter() - start
        # CPU seconds of all threads: on a shared machine less load-bound than wall time.
        return {"mode": mode, "seconds": round(seconds, 2),
                "cpu_seconds": round(time.process_time() - cpu, 2), "peak_mb": round(_peak_mb()),
                "clusters": n_clusters}
    from entity_resolution.pipeline import PERSON, resolve_frame

    prepared = mode == "ours"
    frame = pd.read_parquet(path / ("features.parquet" if prepared else "mentions.parquet"))
    start = time.perf_counter()
    run = resolve_frame(PERSON, frame, model, er_engine=engine, prepared=prepared)
    seconds = time.perf_counter() - start
    return {"mode": mode, "seconds": round(seconds, 2), "peak_mb": round(_peak_mb()),
            "clusters": int(run.golden.shape[0]),
            "stages": {k: round(v, 2) for k, v in run.timings.items() if k.endswith("_s")}}


def prepare_input(n: int, out: Path) -> dict:
    """Write mentions.parquet and features.parquet for a size (reused when present)."""
    import pandas as pd

    from entity_resolution.prepare import prepare_persons

    out.mkdir(parents=True, exist_ok=True)
    if not (out / "features.parquet").exists():
        mentions, truth = simulate_mentions(n)
        mentions.to_parquet(out / "mentions.parquet", index=False)
        start = time.perf_counter()
        features = prepare_persons(mentions)
        features.to_parquet(out / "features.parquet", index=False)
        pd.DataFrame({"source": mentions["source"], "source_key": mentions["source_key"],
                      "person": truth}).to_parquet(out / "truth.parquet", index=False)
        return {"prepare_seconds": round(time.perf_counter() - start, 2)}
    return {}


def main() -> int:
    """Run the benchmark for each size and print a table plus JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, nargs="+", default=[100_000])
    parser.add_argument("--engine", default="duckdb")
    parser.add_argument("--repeat", type=int, default=2,
                        help="runs per mode, interleaved; the fastest counts (shared machine)")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "er")
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    parser.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--kind", default="person", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode:
        print(json.dumps(run_mode(args.mode, args.path, args.engine, args.kind)))
        return 0
    results = []
    for n in args.mentions:
        path = args.out / str(n)
        info = prepare_input(n, path)
        row = {"mentions": n, **info}
        for _ in range(args.repeat):
            for mode in ("bare", "ours", "ours+prepare"):
                proc = subprocess.run(
                    [sys.executable, __file__, "--mode", mode, "--path", str(path),
                     "--engine", args.engine],
                    capture_output=True, text=True, check=True, env={**os.environ},
                )
                result = json.loads(proc.stdout.strip().splitlines()[-1])
                if mode not in row or result["seconds"] < row[mode]["seconds"]:
                    row[mode] = result
        row["ratio_ours_vs_bare"] = round(row["ours"]["seconds"] / row["bare"]["seconds"], 2)
        results.append(row)
        print(f"{n:>9,} mentions | bare {row['bare']['seconds']:>7}s {row['bare']['peak_mb']:>6} MB"
              f" | ours {row['ours']['seconds']:>7}s {row['ours']['peak_mb']:>6} MB"
              f" | ours+prepare {row['ours+prepare']['seconds']:>7}s"
              f" {row['ours+prepare']['peak_mb']:>6} MB | ratio {row['ratio_ours_vs_bare']}",
              flush=True)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
