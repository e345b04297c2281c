"""Deterministic key repair: a mention without a usable key pinned to the one key it can mean.

Two cases the model cannot score well because the evidence sits in one field:

* a resident ID typed with one wrong digit or two neighbouring digits swapped (the check
  character catches both) — one substitution or one adjacent transposition away from the
  valid ID of a mention with the same standardised name is that ID;
* an employer name typed without its city and without any identifier ('海岳服装有限公司'
  for '德州海岳服装有限公司') — the one identified employer with that trade name (and
  branch label) is that employer.

Both repairs refuse whenever two different keys qualify, and a cannot-link override
between a repaired mention and a mention holding the key undoes the repair, so overrides
always win. A repaired mention joins its key's group as an exact link (no probability).
"""

from collections.abc import Iterable

import numpy as np
import pandas as pd

from entity_resolution.prepare import SPREADSHEET_SOURCES
from quotalink.standardise import (
    check_character,
    legal_form,
    looks_float_damaged,
    typed_id18,
)
from quotalink.standardise.ids import birth_date_of

# A place prefix we have no table for ('上海齐润机械' vs '齐润机械'): two or three characters.
_UNKNOWN_PREFIX_LENGTHS = (2, 3)
# Shorter trade names are too generic to match by their end.
_MIN_SUFFIX_CORE = 4
# Clerks typing an employer's name from the person's words swap 有限公司 / 有限责任公司:
# there only 股份有限公司 against the two can choose between employers of one trade name.
_FORM_UNRELIABLE = ("employment_service",)
_SWAPPED_FORMS = {"有限责任公司": "有限公司"}


def _loose(form: str | None) -> str | None:
    """A legal form with the two a clerk confuses (有限公司, 有限责任公司) taken as one."""
    return _SWAPPED_FORMS.get(form, form) if form else form


def _objects(series: pd.Series) -> list:
    """Values as a Python list with every missing value as None."""
    return [v if isinstance(v, str) else None for v in series.astype("object").tolist()]


def _apply(features: pd.DataFrame, column: str, fixed: dict[int, str], repaired: np.ndarray,
           cannot_link: Iterable[tuple[int, int]]) -> None:
    """Write repaired keys into `column`, except where a cannot-link override forbids it.

    A repair never joins a mention to a mention an override keeps it apart from.
    """
    if not fixed:
        return
    current = features[column]
    undo = set()
    for a, b in cannot_link:
        for x, y in ((a, b), (b, a)):
            other = fixed.get(y, current.iat[y])
            if x in fixed and isinstance(other, str) and fixed[x] == other:
                undo.add(x)
    for x in undo:
        fixed.pop(x)
    if not fixed:
        return
    rows = np.fromiter(fixed, dtype=np.int64)
    if current.dtype != "string":
        features[column] = current.astype("string")
    features.iloc[rows, features.columns.get_loc(column)] = list(fixed.values())
    repaired[rows] = True


def _chars(values: pd.Series) -> np.ndarray:
    """18-character ASCII strings as an (n, 18) byte matrix."""
    return np.frombuffer("".join(values.tolist()).encode("ascii"),
                         dtype=np.uint8).reshape(-1, 18)


def _one_typo_mask(typed: pd.Series, valid: pd.Series) -> np.ndarray:
    """Row-wise `one_typo_apart` of two columns of 18-character IDs, vectorised."""
    a, b = _chars(typed), _chars(valid)
    diff = a != b
    count = diff.sum(axis=1)
    first = diff.argmax(axis=1)
    idx = np.arange(len(a))
    nxt = np.minimum(first + 1, 17)
    swapped = (count == 2) & diff[idx, nxt] & (nxt == first + 1) \
        & (a[idx, first] == b[idx, nxt]) & (a[idx, nxt] == b[idx, first])
    return (count == 1) | swapped


def _bad_check_id(raw: object, spreadsheet: bool = True) -> str | None:
    """The typed 18 characters when the check character or an impossible birth date
    proves a typo, else None."""
    # Most typed values are already 18 plain characters: skip the general cleaning.
    plain = isinstance(raw, str) and len(raw) == 18 and raw.isascii() \
        and raw[:17].isdigit() and raw[17] in "0123456789Xx"
    typed = raw.upper() if plain else typed_id18(raw)
    if typed is None or not typed[:17].isdigit():
        return None
    if spreadsheet and looks_float_damaged(typed):
        # Excel damage is not a typo: its last digits are lost, not mistyped. Only a
        # spreadsheet turns an ID into a number; elsewhere an ID ending in 000 is an ID.
        return None
    # Two typos can leave the check right by chance (1 in 11) but rarely a real date.
    if check_character(typed[:17]) != typed[17] or birth_date_of(typed) is None:
        return typed
    return None


def repair_person_keys(features: pd.DataFrame,
                       cannot_link: Iterable[tuple[int, int]] = ()) -> np.ndarray:
    """Give a mention whose ID fails its check the one valid ID it is a typo of.

    The valid ID must be held (as `id_key`) by a mention with the same standardised name
    and be the only such ID one substitution or one adjacent transposition away from the
    typed value; only when no same-name mention qualifies, the same pinyin (a homophone
    typed for the name) counts instead, and then a name one character apart, each with the
    same uniqueness rule. Updates `features["id_key"]` in place (records are `unique_id`
    0…n-1 in row order) and returns the mask of repaired records.
    """
    n = len(features)
    repaired = np.zeros(n, dtype=bool)
    fixed: dict[int, str] = _id_against_certificate(features)
    raw = features["id_number_raw"] if "id_number_raw" in features else features["id_number"]
    if "id_number" in features:
        raw = raw.where(raw.notna(), features["id_number"])
    key_col = features["id_key"]
    # Only mentions without a key but with a typed ID are candidates: a few per cent, so
    # the Python below runs over them; pairs with held IDs are compared vectorised.
    todo = np.flatnonzero((key_col.isna() & raw.notna() & features["full_name"].notna())
                          .to_numpy())
    if len(todo) == 0:
        _apply(features, "id_key", fixed, repaired, cannot_link)
        return repaired
    spreadsheet = (features["source"].isin(SPREADSHEET_SOURCES).to_numpy(dtype=bool)
                   if "source" in features else np.ones(n, dtype=bool))
    typed = [_bad_check_id(v, bool(s)) for v, s in zip(raw.iloc[todo].tolist(),
                                                       spreadsheet[todo].tolist(), strict=True)]
    keep = np.array([t is not None for t in typed], dtype=bool)
    if not keep.any():
        _apply(features, "id_key", fixed, repaired, cannot_link)
        return repaired
    has_sound = "name_pinyin" in features
    rows = todo[keep]
    cand = pd.DataFrame({"row": rows, "typed": [t for t in typed if t is not None],
                         "full_name": features["full_name"].iloc[rows].to_numpy()})
    tiers = ["full_name"]
    if has_sound:
        cand["name_pinyin"] = features["name_pinyin"].iloc[rows].to_numpy()
        tiers.append("name_pinyin")
    tiers.append("name_mask")
    for tier in tiers:
        # A homophone typed for the name ('孙波晖' for '孙波辉') counts only for mentions
        # no same-name ID fits: the pinyin tier sees what the name tier left; the last
        # tier, one character of the name mistyped (a polyphone read otherwise, 陈靓 for
        # 陈亮, or a slip), sees what both left.
        if tier == "name_mask":
            cand = _name_masks(cand)
            held = _name_masks(features.loc[key_col.notna().to_numpy(), ["full_name", "id_key"]]
                               .drop_duplicates(), set(cand["name_mask"]))
            held = held[["name_mask", "id_key"]].drop_duplicates()
        else:
            wanted = features[tier].isin(set(cand[tier].dropna())) & key_col.notna()
            held = features.loc[wanted.to_numpy(), [tier, "id_key"]].drop_duplicates()
        pairs = cand[["row", "typed", tier]].dropna().merge(held, on=tier)
        if len(pairs):
            pairs = pairs[_one_typo_mask(pairs["typed"], pairs["id_key"])]
        per_row = pairs.groupby("row")["id_key"].agg(["nunique", "first"])
        # Two namesakes' IDs within one typo: a coin toss, not evidence.
        single = per_row[per_row["nunique"] == 1]
        fixed.update(zip(single.index.tolist(), single["first"].tolist(), strict=True))
        cand = cand[~cand["row"].isin(per_row.index)]
        if cand.empty:
            break
    # Typed twice over (a slip on top of a slip, or two neighbours swapped twice): two
    # typos from the one valid ID of a mention with the very same name, else (a homophone
    # typed for the name as well) the same pinyin, with the same uniqueness rule.
    for tier in ["full_name", "name_pinyin"] if has_sound else ["full_name"]:
        cand = cand[~cand["row"].isin(fixed.keys())]
        if cand.empty:
            break
        wanted = features[tier].isin(set(cand[tier].dropna())) & key_col.notna()
        held = features.loc[wanted.to_numpy(), [tier, "id_key"]].drop_duplicates()
        pairs = cand[["row", "typed", tier]].dropna().drop_duplicates().merge(held, on=tier)
        if len(pairs):
            pairs = pairs[[two_typos_apart(a, b) for a, b in
                           zip(pairs["typed"].tolist(), pairs["id_key"].tolist(), strict=True)]]
        per_row = pairs.groupby("row")["id_key"].agg(["nunique", "first"])
        single = per_row[per_row["nunique"] == 1]
        fixed.update(zip(single.index.tolist(), single["first"].tolist(), strict=True))
        cand = cand[~cand["row"].isin(per_row.index)]
    _apply(features, "id_key", fixed, repaired, cannot_link)
    return repaired


def _id_against_certificate(features: pd.DataFrame) -> dict[int, str]:
    """Mentions whose ID column and certificate name two different valid IDs: two typos
    can leave an ID valid (its check right 1 time in 11). The certificate's ID wins when
    no other mention holds the typed one and another mention of the same name holds the
    certificate's."""
    if "cert_number" not in features:
        return {}
    keys, certs = features["id_key"], features["cert_number"].str.slice(0, 18)
    rows = np.flatnonzero((keys.notna() & certs.notna() & (keys != certs)).fillna(False)
                          .to_numpy(dtype=bool))
    if len(rows) == 0:
        return {}
    counts = keys.value_counts()
    names = features["full_name"]
    fixed = {}
    for i in rows.tolist():
        typed, cert = keys.iat[i], certs.iat[i]
        if counts.get(typed, 0) != 1 or counts.get(cert, 0) == 0:
            continue
        holders = (keys == cert).fillna(False).to_numpy(dtype=bool)
        if not pd.isna(names.iat[i]) and (names[holders] == names.iat[i]).any():
            fixed[i] = cert
    return fixed


def two_typos_apart(typed: str, valid: str) -> bool:
    """True when two 18-character IDs differ by at most two typos, each a substitution or
    a swap of two neighbouring characters (and not by none)."""
    if len(typed) != len(valid) or typed == valid:
        return False
    diff = [i for i, (a, b) in enumerate(zip(typed, valid, strict=True)) if a != b]
    if len(diff) > 4:
        return False
    typos, k = 0, 0
    while k < len(diff):
        i = diff[k]
        if k + 1 < len(diff) and diff[k + 1] == i + 1 and typed[i] == valid[i + 1] \
                and typed[i + 1] == valid[i]:
            k += 2  # a swap of neighbours
        else:
            k += 1
        typos += 1
    return typos <= 2


def _name_masks(frame: pd.DataFrame, only: set[str] | None = None) -> pd.DataFrame:
    """`frame` once per character of its `full_name` (two or more characters), with
    `name_mask`: the name with that character blanked; only masks in `only` if given."""
    names = pd.unique(frame["full_name"].dropna().astype("object"))
    masks = {n: [n[:i] + "\0" + n[i + 1:] for i in range(len(n))]
             for n in names if isinstance(n, str) and len(n) >= 2}
    if only is not None:
        masks = {n: [m for m in ms if m in only] for n, ms in masks.items()}
        masks = {n: ms for n, ms in masks.items() if ms}
    out = frame[frame["full_name"].isin(masks.keys())].copy()
    out["name_mask"] = out["full_name"].map(masks)
    return out.explode("name_mask", ignore_index=True)


def attach_keyless_employers(features: pd.DataFrame,
                             cannot_link: Iterable[tuple[int, int]] = ()) -> np.ndarray:
    """Give a cityless, identifier-less employer mention the one org code its name fits.

    Candidates are the org codes of mentions with the same trade name (`name_core`) and
    the same branch label, or whose trade name is this one behind a 2–3 character place
    prefix we have no table for. Several candidates are narrowed to the one sharing the
    mention's legal form, if exactly one does. No repair when keyless mentions name the
    trade name in a city none of the candidates' mentions is in (a third employer may
    exist there). Updates `features["org_code"]` in place; returns the repaired mask.
    """
    n = len(features)
    repaired = np.zeros(n, dtype=bool)
    if n == 0:
        return repaired
    orgs = _objects(features["org_code"])
    cores = _objects(features["name_core"])
    cities = _objects(features["city_code"])
    labels = _objects(features["branch_label"])
    names = _objects(features["name"])
    sources = _objects(features["source"])
    form_of = {v: legal_form(v) for v in set(names) if v is not None}
    forms = [form_of.get(v) if v is not None else None for v in names]

    exact: dict[tuple[str, str | None], dict[str, set[str | None]]] = {}
    suffix: dict[tuple[str, str | None], dict[str, set[str | None]]] = {}
    org_cities: dict[str, set[str]] = {}
    keyless_cities: dict[tuple[str, str | None], set[str]] = {}
    for org, core, city, label, form in zip(orgs, cores, cities, labels, forms, strict=True):
        if core is None:
            continue
        if org is None:
            if city is not None:
                keyless_cities.setdefault((core, label), set()).add(city)
            continue
        exact.setdefault((core, label), {}).setdefault(org, set()).add(form)
        if city is not None:
            org_cities.setdefault(org, set()).add(city)
        for k in _UNKNOWN_PREFIX_LENGTHS:
            if len(core) - k >= _MIN_SUFFIX_CORE:
                suffix.setdefault((core[k:], label), {}).setdefault(org, set()).add(form)

    fixed: dict[int, str] = {}
    for i in range(n):
        if orgs[i] is not None or cities[i] is not None or cores[i] is None:
            continue
        sig = (cores[i], labels[i])
        candidates: dict[str, set[str | None]] = {}
        for index in (exact, suffix):
            for org, fs in index.get(sig, {}).items():
                candidates.setdefault(org, set()).update(fs)
        known_cities = set().union(*(org_cities.get(o, set()) for o in candidates))
        if keyless_cities.get(sig, set()) - known_cities:
            continue
        if len(candidates) > 1:
            if sources[i] in _FORM_UNRELIABLE:
                candidates = {o: fs for o, fs in candidates.items()
                              if forms[i] is not None and _loose(forms[i]) in {_loose(f) for f in fs}}
            else:
                candidates = {o: fs for o, fs in candidates.items()
                              if forms[i] is not None and forms[i] in fs}
        if len(candidates) != 1:
            continue
        (org,) = candidates
        fixed[i] = org
    _apply(features, "org_code", fixed, repaired, cannot_link)
    return repaired
