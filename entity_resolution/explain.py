"""Why records are one: the spanning mention pairs of each cluster, their kind and evidence."""

import copy
import json
import logging
import math
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import sqlalchemy as sa

from entity_resolution.clustering import find_root
from entity_resolution.context import IDLESS_MOVED_RULE, IDLESS_SOUND_RULE

log = logging.getLogger(__name__)

ENTITIES = ("person", "employer")
# The order of preference when several links could explain a pair of components: the
# strongest evidence first (an auditor's word, an identifier, a rule, then the model).
KIND_ORDER = ("must_link", "exact_id", "uscc", "org_code", "repair", "relational", "context",
              "splink")
PRIOR = "prior"

# Chinese names of the model's comparisons and their levels (model JSON labels are English).
COMPARISON_NAMES = {
    "id": "身份证号", "full_name": "姓名", "birth": "出生日期", "birth_year": "年龄与出生年",
    "gender": "性别", "phone": "电话", "hukou": "户籍地", "disability": "残疾类别",
    "identifier": "组织机构代码", "name": "单位名称", "branch": "分支机构", "city": "所在地",
    "unit_type": "单位类型", PRIOR: "先验",
}
# Keyed by the level's label, or by (comparison, label) where two comparisons share a label.
LEVEL_LABELS: dict[str | tuple[str, str], str] = {
    "null": "缺值（不计）", "exact": "完全相同", "same": "相同", "all other": "其他（不同）",
    "same 17-digit core": "前17位相同", "core differs by one": "前17位差一位",
    "core differs by two (a transposition)": "前17位两位颠倒",
    "same region and birth date": "地区码与出生日期相同", "same birth date in ID": "号码中出生日期相同",
    "same pinyin": "拼音相同", "one character differs": "差一个字", "same surname": "同姓",
    "same date": "日期相同", "dates differ by one character": "日期差一位",
    "dates known, or no age": "无年龄信息（不计）", "birth year fits an age": "出生年与年龄相符",
    "same county": "同一区县", "same city": "同一城市", "same category": "类别相同",
    "same organisation code": "组织机构代码相同", "org code differs by one": "组织机构代码差一位",
    "same core name": "字号相同", ("name", "core differs by one"): "字号差一个字",
    "one core ends with the other": "字号互为后缀", "core shares its first two characters": "字号前两字相同",
    "neither a branch": "均非分支机构", "same branch": "同一分支机构",
}
_RULE_REASONS = {
    "typed ID one or two typos from the only valid ID of the same name (or its certificate's)":
        "录入的身份证号有误（校验不通过、日期不存在或与本人残疾人证不符），与同名者唯一的有效身份证号只差一两处"
        "（错一位或相邻两位颠倒），按该号关联",
    "cityless name of the only identified employer with that trade name":
        "名称无城市、无代码，与唯一有代码的同字号单位相符",
    "name core of the one employer registered in the county its name names":
        "名称指明了区县，该区县内只有一个同字号的已识别单位",
    "name core of one employer in the registering office's city":
        "登记机构所在城市内只有一个同字号的已识别单位",
}
_RELATIONAL = "same golden person employed there in the same months"
_IDLESS = "no ID:"
# Rules of context.py that the run records as key repairs: evidence from other fields and
# tables (the county a name names, the registering office, the ID-less person's facts).
_CONTEXT_RULES = ("name core of the one employer registered in the county its name names",
                  "name core of one employer in the registering office's city")


def link_kind_of(kind: str, rule: str | None) -> str:
    """The match-edge kind of a rule-made link: context.py's rules are 'context'."""
    if kind == "repair" and rule and (rule in _CONTEXT_RULES or rule.startswith(_IDLESS)):
        return "context"
    return kind


@dataclass
class Comparison:
    """One term of a Splink pair's match weight: comparison, level reached, weight (bits)."""

    name: str
    label: str
    weight: float


@dataclass
class MatchEdge:
    """A pair of mentions that (with the others of its cluster) makes a golden record."""

    entity: str
    golden_id: str
    source_l: str
    key_l: str
    source_r: str
    key_r: str
    link_kind: str
    reason: str
    match_weight: float | None = None
    match_probability: float | None = None
    comparisons: list[Comparison] = field(default_factory=list)


def _noun(entity: str) -> str:
    return "人" if entity == "person" else "单位"


def rule_reason(entity: str, link_kind: str, rule: str | None) -> str:
    """The Chinese reason of a rule-made link (context.py, repair.py) from its rule text."""
    rule = rule or ""
    if rule in _RULE_REASONS:
        return _RULE_REASONS[rule]
    if rule.startswith(_RELATIONAL):
        via = rule[len(_RELATIONAL):].strip(" ()")
        return "同一人同期在该单位就业" + (f"（依据：{via}）" if via else "")
    if rule == IDLESS_MOVED_RULE:
        return ("无证件号：同姓名、残疾类别和等级，身份证号所示区县即登记的户籍所在地（迁移前户籍），"
                "且在同一单位就业的唯一一人")
    if rule == IDLESS_SOUND_RULE:
        return ("无证件号：姓名读音相同（疑为录入同音字），残疾类别和等级相同，户籍区县或电话相同，"
                "且无其他就业单位的唯一一人")
    if rule.startswith(_IDLESS):
        return ("无证件号：同姓名、性别、残疾类别和等级，户籍区县或电话相同的唯一一人"
                "（或同一单位的唯一一人）")
    kind = {"repair": "确定性修复", "relational": "关联证据", "context": "上下文证据"}.get(
        link_kind, link_kind)
    return f"{kind}：{rule}" if rule else kind


def exact_reason(entity: str, link_kind: str) -> str:
    """The Chinese reason of an identifier link."""
    return {
        "exact_id": "两条记录的有效身份证号相同",
        "uscc": "统一社会信用代码相同",
        "org_code": "组织机构代码相同（统一社会信用代码第9–17位即组织机构代码）",
    }[link_kind]


def splink_reason(entity: str, weight: float, probability: float) -> str:
    """The Chinese reason of a model link."""
    return (f"模型（Splink）判定为同一{_noun(entity)}：匹配权重 {weight:.2f}，"
            f"匹配概率 {probability:.4f}")


def must_reason(entity: str, decided_by: str, reason: str, override_id: int) -> str:
    """The Chinese reason of an auditor's must-link."""
    return (f"审核人员 {decided_by} 裁定为同一{_noun(entity)}（人工关联 #{override_id}）"
            + (f"：{reason}" if reason else ""))


class _Forest:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        return find_root(self.parent, i)

    def join(self, a: int, b: int) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        self.parent[max(ra, rb)] = min(ra, rb)
        return True


def spanning_pairs(entity: str, features: pd.DataFrame, labels: np.ndarray,
                   edges: pd.DataFrame, threshold: float,
                   must_link: dict[tuple[int, int], tuple[int, str, str]] | None = None,
                   refused: Sequence[tuple[int, int, str]] = ()) -> pd.DataFrame:
    """A spanning forest of each cluster's mentions (record indexes), one row per pair.

    Same key first (each mention to the first in its cluster holding the key by its own
    value; a mention keyed by a rule links with that rule's kind), then must-links, then
    model edges above the threshold, most probable first, between parts not yet joined —
    the order clustering itself accepts links in. Columns: l, r, link_kind, reason, and
    match_weight / match_probability for model pairs.
    """
    n = len(features)
    cols = ["l", "r", "link_kind", "reason", "match_weight", "match_probability"]
    if n == 0:
        return pd.DataFrame(columns=cols)
    key_col = "id_key" if entity == "person" else "org_code"
    codes = pd.factorize(features[key_col], use_na_sentinel=True)[0]
    kinds = features["link_kind"].to_numpy(dtype=object) if "link_kind" in features \
        else np.full(n, None, dtype=object)
    rules_ = features["link_rule"].to_numpy(dtype=object) if "link_rule" in features \
        else np.full(n, None, dtype=object)
    own = pd.isna(kinds)
    labels = np.asarray(labels, dtype=np.int64)
    comp = np.arange(n, dtype=np.int64)
    out: list[pd.DataFrame] = []

    keyed = np.flatnonzero(codes >= 0)
    if len(keyed):
        # The anchor: a mention keyed by its own value, for employers one with a credit
        # code (so mentions sharing that code are named as such).
        k = pd.DataFrame({"row": keyed, "label": labels[keyed], "code": codes[keyed],
                          "rule": ~own[keyed],
                          "bare": (features["uscc"].isna().to_numpy()[keyed]
                                   if entity == "employer" else False)})
        k = k.sort_values(["label", "code", "rule", "bare", "row"], kind="stable")
        anchor = k.groupby(["label", "code"], sort=False)["row"].transform("first").to_numpy()
        rows = k["row"].to_numpy()
        comp[rows] = anchor
        pair = rows != anchor
        left, r = anchor[pair], rows[pair]
        kind = np.empty(len(r), dtype=object)
        if entity == "person":
            kind[:] = "exact_id"
        else:
            uscc = features["uscc"].astype("string").fillna("").to_numpy(dtype=object)
            same = (uscc[left] != "") & (uscc[left] == uscc[r])
            kind[:] = np.where(same, "uscc", "org_code")
        reason = np.empty(len(r), dtype=object)
        for k in set(kind.tolist()):
            reason[kind == k] = exact_reason(entity, k)
        # Mentions keyed by a rule (a few per cent) carry that rule's kind and reason.
        by_rule = np.flatnonzero(~own[r])
        cache: dict[tuple[str, str | None], tuple[str, str]] = {}
        for i in by_rule.tolist():
            row = r[i]
            key = (kinds[row], rules_[row])
            if key not in cache:
                cache[key] = (link_kind_of(*key), rule_reason(entity, *key))
            kind[i], reason[i] = cache[key]
        out.append(pd.DataFrame({"l": left, "r": r, "link_kind": kind, "reason": reason,
                                 "match_weight": np.nan, "match_probability": np.nan}))

    forest = _Forest(n)
    extra: list[tuple] = []
    for (a, b), (override_id, decided_by, why) in (must_link or {}).items():
        if labels[a] == labels[b] and forest.join(int(comp[a]), int(comp[b])):
            extra.append((a, b, "must_link", must_reason(entity, decided_by, why, override_id),
                          np.nan, np.nan))
    if len(edges):
        el = edges["unique_id_l"].to_numpy(dtype=np.int64)
        er = edges["unique_id_r"].to_numpy(dtype=np.int64)
        p = edges["match_probability"].to_numpy(dtype=float)
        w = edges["match_weight"].to_numpy(dtype=float)
        keep = (p >= threshold) & (labels[el] == labels[er]) & (comp[el] != comp[er])
        idx = np.flatnonzero(keep)
        if len(idx) and refused:
            bad = {(min(a, b), max(a, b)) for a, b, why in refused if why == "ambiguous"}
            if bad:
                idx = np.array([i for i in idx.tolist()
                                if (min(el[i], er[i]), max(el[i], er[i])) not in bad],
                               dtype=np.int64)
        idx = idx[np.argsort(-p[idx], kind="stable")]
        for i in idx.tolist():
            a, b = int(el[i]), int(er[i])
            if forest.join(int(comp[a]), int(comp[b])):
                extra.append((a, b, "splink", splink_reason(entity, w[i], p[i]), w[i], p[i]))
    if extra:
        out.append(pd.DataFrame(extra, columns=cols))
    if not out:
        return pd.DataFrame(columns=cols)
    frame = pd.concat(out, ignore_index=True)
    frame["l"] = frame["l"].astype(np.int64)
    frame["r"] = frame["r"].astype(np.int64)
    return frame


def _levels(settings: dict) -> dict[str, dict[int, str]]:
    """Comparison output name → comparison vector value → level label (Splink's numbering:
    the null level is −1, the other levels count down to 0 in their order)."""
    out: dict[str, dict[int, str]] = {}
    for c in settings["comparisons"]:
        levels = c["comparison_levels"]
        others = [lv for lv in levels if not lv.get("is_null_level")]
        values = {len(others) - 1 - i: lv.get("label_for_charts", "") for i, lv in enumerate(others)}
        for lv in levels:
            if lv.get("is_null_level"):
                values[-1] = lv.get("label_for_charts", "null")
        out[c["output_column_name"]] = values
    return out


def splink_comparisons(model, features: pd.DataFrame, left: np.ndarray, right: np.ndarray,
                       *, engine: str = "duckdb",
                       tf_tables: dict | None = None) -> list[list[dict]]:
    """Per pair (records left[i], right[i]): the prior and each comparison's level and weight.

    Scores only these pairs: each pair's two records, renumbered, blocked on a pair number,
    with the term frequencies of the whole run (`tf_tables`, as the run's predict counted
    them before any key repair) — so the weights equal the run's own.
    """
    return comparisons_later(model, features, left, right, engine=engine,
                             tf_tables=tf_tables)()


def comparisons_later(model, features: pd.DataFrame, left: np.ndarray, right: np.ndarray,
                      *, engine: str = "duckdb",
                      tf_tables: dict | None = None) -> Callable[[], list[list[dict]]]:
    """splink_comparisons scored in a background thread (the back-end's query runs outside
    Python's lock, beside the run's survivorship); returns the call that waits for it."""
    from entity_resolution import rules
    from entity_resolution.backends import term_frequency_tables

    m = len(left)
    if m == 0:
        return list
    columns = (rules.PERSON_MODEL_COLUMNS if model.kind == "person"
               else rules.EMPLOYER_MODEL_COLUMNS)
    rows = np.empty(2 * m, dtype=np.int64)
    rows[0::2], rows[1::2] = left, right
    # Copied here, in the caller's thread: the run goes on adding columns to `features`.
    sub = features.iloc[rows][columns].reset_index(drop=True)
    sub["unique_id"] = np.arange(2 * m, dtype=np.int64)
    sub["pair_no"] = np.repeat(np.arange(m, dtype=np.int64), 2)
    if not tf_tables:
        key = rules.PERSON_EXACT_KEY if model.kind == "person" else rules.EMPLOYER_EXACT_KEY
        tf_tables = term_frequency_tables(features, key, model.settings)
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="explain")
    future = pool.submit(_score_pairs, model, sub, m, engine, tf_tables)
    pool.shutdown(wait=False)
    return future.result


def _score_pairs(model, sub: pd.DataFrame, m: int, engine: str,
                 tf_tables: dict) -> list[list[dict]]:
    from splink import Linker

    from entity_resolution.backends import make_db_api, register
    from entity_resolution.linking import _release

    settings = copy.deepcopy(model.settings)
    # Written in the model's dialect, which Splink translates for the back-end as it does
    # the model's own rules.
    dialect = settings.get("sql_dialect", "duckdb")
    settings["retain_intermediate_calculation_columns"] = True
    settings["retain_matching_columns"] = True  # Splink 5 keeps the levels (gamma_) only so
    settings["additional_columns_to_retain"] = []
    settings["blocking_rules_to_generate_predictions"] = [
        {"blocking_rule": "l.pair_no = r.pair_no", "sql_dialect": dialect}]
    db_api = make_db_api(engine)
    # The model's settings were validated when it was trained and in the run's own predict.
    linker = Linker(register(db_api, sub, f"{model.kind}_explain"), settings,
                    validate_settings=False)
    for col, tf in tf_tables.items():
        linker.table_management.register_term_frequency_lookup(
            register(db_api, tf, f"tf_{col}"), col)
    table = linker.inference.predict().as_pandas_dataframe()
    _release(linker)
    pair_of = table["unique_id_l"].to_numpy(dtype=np.int64) // 2
    p = float(settings["probability_two_random_records_match"])
    prior = {"name": PRIOR, "label": COMPARISON_NAMES[PRIOR], "weight": math.log2(p / (1 - p))}
    levels = _levels(settings)
    gamma_prefix = settings.get("comparison_vector_value_column_prefix", "gamma_")
    mw_prefix = settings.get("match_weight_column_prefix", "mw_")
    # Column by column (a row-wise loop over a frame costs more than the scoring itself).
    terms: list[tuple[str, dict[int, str], np.ndarray, np.ndarray]] = []
    for name, labels in levels.items():
        weight = table[f"{mw_prefix}{name}"].to_numpy(dtype=float)
        tf = f"{mw_prefix}tf_adj_{name}"
        if tf in table:
            # Splink 5 gives each term as a match weight (log2 of its Bayes factor).
            weight = weight + np.nan_to_num(table[tf].to_numpy(dtype=float))
        terms.append((name, labels, table[f"{gamma_prefix}{name}"].to_numpy(dtype=np.int64),
                      weight))
    out: list[list[dict]] = [[dict(prior)] for _ in range(m)]
    for name, labels, gamma, weight in terms:
        for pair, g, w in zip(pair_of.tolist(), gamma.tolist(), weight.tolist(), strict=True):
            out[pair].append({"name": name, "label": labels.get(g, str(g)), "weight": w})
    return out


def edge_frame(entity: str, features: pd.DataFrame, pairs: pd.DataFrame, id_col: str,
               comparisons: list[list[dict]] | None = None,
               run_id: str | None = None) -> pd.DataFrame:
    """The rows of core.<entity>_match_edge for the spanning pairs (comparisons of the
    model pairs in the order of `pairs`' splink rows)."""
    left = pairs["l"].to_numpy(dtype=np.int64)
    r = pairs["r"].to_numpy(dtype=np.int64)
    comp = np.full(len(pairs), None, dtype=object)
    if comparisons:
        where = np.flatnonzero((pairs["link_kind"] == "splink").to_numpy())
        for i, items in zip(where.tolist(), comparisons, strict=True):
            comp[i] = json.dumps(items, ensure_ascii=False)

    def take(col: str, rows: np.ndarray) -> pd.Series:
        # Arrow-backed strings stay Arrow: no round trip through Python objects.
        return features[col].take(rows).reset_index(drop=True)

    def text(values) -> pd.Series:
        return pd.Series(np.asarray(values, dtype=object), dtype=object)

    return pd.DataFrame({
        f"{entity}_id": take(id_col, left), "source_l": take("source", left),
        "key_l": take("source_key", left), "source_r": take("source", r),
        "key_r": take("source_key", r), "link_kind": text(pairs["link_kind"]),
        "reason": text(pairs["reason"]),
        "match_weight": pairs["match_weight"].to_numpy(dtype=float),
        "match_probability": pairs["match_probability"].to_numpy(dtype=float),
        "comparisons": text(comp), "run_id": text([run_id] * len(pairs)),
    })


def _localise(items: list[dict]) -> list[Comparison]:
    return [Comparison(COMPARISON_NAMES.get(c["name"], c["name"]),
                       LEVEL_LABELS.get((c["name"], c["label"]),
                                        LEVEL_LABELS.get(c["label"], c["label"])),
                       float(c["weight"]))
            for c in items]


def cluster_edges(conn, entity: str, golden_id: str) -> list[MatchEdge]:
    """The stored match edges of one golden person or employer (a retired ID finds its
    current record), strongest evidence first; comparison names and levels in Chinese."""
    if entity not in ENTITIES:
        raise ValueError(f"entity must be one of {ENTITIES}, not {entity!r}")
    # Forward along the retirements from this one ID (index lookups on retired_id), not the
    # lookup view, which expands every record's chain to answer for one.
    current = conn.execute(sa.text(
        f"with recursive fwd(id, depth) as (select cast(:g as text), 0 union all "
        f"select h.current_id, f.depth + 1 from core.{entity}_id_history h "
        f"join fwd f on h.retired_id = f.id where f.depth < 50) "
        f"select id from fwd order by depth desc limit 1"), {"g": golden_id}).scalar()
    rows = conn.execute(sa.text(
        f"select {entity}_id, source_l, key_l, source_r, key_r, link_kind, reason, "
        f"match_weight, match_probability, comparisons from core.{entity}_match_edge "
        f"where {entity}_id = :g"), {"g": current}).all()
    order = {k: i for i, k in enumerate(KIND_ORDER)}
    edges = []
    for row in rows:
        items = row.comparisons
        if isinstance(items, str):
            items = json.loads(items)
        edges.append(MatchEdge(
            entity, row[0], row.source_l, row.key_l, row.source_r, row.key_r, row.link_kind,
            row.reason, row.match_weight, row.match_probability, _localise(items or [])))
    edges.sort(key=lambda e: (order.get(e.link_kind, len(order)),
                              -(e.match_weight or 0.0), e.source_l, e.key_l, e.source_r, e.key_r))
    return edges
