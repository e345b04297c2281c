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

from entity_resolution.standardise import (
    check_character,
    legal_form,
    looks_float_damaged,
    one_typo_apart,
    typed_id18,
)

# A place prefix we have no table for ('上海齐润机械' vs '齐润机械'): two or three characters.
_UNKNOWN_PREFIX_LENGTHS = (2, 3)
# Shorter trade names are too generic to match by their end.
_MIN_SUFFIX_CORE = 4


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
    values = current.astype("string").to_numpy(copy=True)
    values[rows] = list(fixed.values())
    features[column] = pd.array(values, dtype="string")
    repaired[rows] = True


def _bad_check_id(raw: object) -> str | None:
    """The typed 18 characters when the check character proves a typo, else None."""
    typed = typed_id18(raw)
    if typed is None or looks_float_damaged(typed) or not typed[:17].isdigit():
        return None  # Excel damage is not a typo: its last digits are lost, not mistyped
    return typed if check_character(typed[:17]) != typed[17] else None


def repair_person_keys(features: pd.DataFrame,
                       cannot_link: Iterable[tuple[int, int]] = ()) -> np.ndarray:
    """Give a mention whose ID fails its check the one valid ID it is a typo of.

    The valid ID must be held (as `id_key`) by a mention with the same standardised name
    and be the only such ID one substitution or one adjacent transposition away from the
    typed value; only when no same-name mention qualifies, the same pinyin (a homophone
    typed for the name) counts instead, with the same uniqueness rule. Updates `features["id_key"]` in place (records are `unique_id` 0…n-1 in
    row order) and returns the mask of repaired records.
    """
    n = len(features)
    repaired = np.zeros(n, dtype=bool)
    raw = features["id_number_raw"] if "id_number_raw" in features else features["id_number"]
    if "id_number" in features:
        raw = raw.where(raw.notna(), features["id_number"])
    key_col = features["id_key"]
    # Only mentions without a key but with a typed ID are candidates: a few per cent, so
    # the Python below runs over them and the names they carry, never over all mentions.
    todo = np.flatnonzero((key_col.isna() & raw.notna() & features["full_name"].notna())
                          .to_numpy())
    if len(todo) == 0:
        return repaired
    has_sound = "name_pinyin" in features
    typed = {int(i): t for i, t in zip(todo.tolist(), (_bad_check_id(v) for v in
                                                          raw.iloc[todo].tolist()),
                                       strict=True) if t is not None}
    if not typed:
        return repaired
    rows = np.fromiter(typed, dtype=np.int64)
    names = features["full_name"].iloc[rows]
    wanted = features["full_name"].isin(set(names.dropna()))
    if has_sound:
        sounds = features["name_pinyin"].iloc[rows]
        wanted |= features["name_pinyin"].isin(set(sounds.dropna()))
    held = features.loc[(wanted & key_col.notna()).to_numpy(),
                        ["full_name", "id_key", *(["name_pinyin"] if has_sound else [])]]
    by_name: dict[str, set[str]] = {}
    by_sound: dict[str, set[str]] = {}
    for name, key in zip(_objects(held["full_name"]), _objects(held["id_key"]), strict=True):
        by_name.setdefault(name, set()).add(key)
    if has_sound:
        for sound, key in zip(_objects(held["name_pinyin"]), _objects(held["id_key"]),
                              strict=True):
            if sound is not None:
                by_sound.setdefault(sound, set()).add(key)
    row_names = dict(zip(rows.tolist(), _objects(names), strict=True))
    row_sounds = (dict(zip(rows.tolist(), _objects(sounds), strict=True)) if has_sound
                  else {})
    fixed: dict[int, str] = {}
    for i, value in typed.items():
        hits = {k for k in by_name.get(row_names[i], ()) if one_typo_apart(value, k)}
        if not hits:
            # A homophone typed for the name ('孙波晖' for '孙波辉'): the same pinyin.
            hits = {k for k in by_sound.get(row_sounds.get(i), ()) if one_typo_apart(value, k)}
        if len(hits) == 1:  # two namesakes' IDs within one typo: a coin toss, not evidence
            fixed[i] = hits.pop()
    _apply(features, "id_key", fixed, repaired, cannot_link)
    return repaired


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
            candidates = {o: fs for o, fs in candidates.items()
                          if forms[i] is not None and forms[i] in fs}
        if len(candidates) != 1:
            continue
        (org,) = candidates
        fixed[i] = org
    _apply(features, "org_code", fixed, repaired, cannot_link)
    return repaired
