"""Employer links from context: the person's employer in the same months, the registering office's region, organs by name within their region."""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher

import numpy as np
import pandas as pd

from quotalink.standardise import legal_form
from quotalink.standardise.regions import region_from_text

# Sources whose employer mention shares its key with the person mention of the same row.
_SAME_ROW_SOURCES = ("employment_service", "org", "graduates")
# Two trade-name cores this similar (after the place prefix) name the same employer.
_CORE_SIMILARITY = 0.8


@dataclass
class EmployerContext:
    """What other tables say about employer mentions (read once per run)."""

    # employment_service registration → registering office and its region code
    office_region: dict[str, str] = field(default_factory=dict)
    # employment_service registration → the person's household registration (county)
    hukou_region: dict[str, str] = field(default_factory=dict)
    # (source, key) of an employer mention → golden person it employs and its months
    person_of: dict[tuple[str, str], str] = field(default_factory=dict)
    months_of: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    # golden person → [(employer source, employer key, first month, last month)]
    employments: dict[str, list[tuple[str, str, int, int]]] = field(default_factory=dict)


@dataclass
class ContextLinks:
    """Mentions given an org code by context, with the rule and the evidence."""

    rows: dict[int, str] = field(default_factory=dict)  # record → org code
    reasons: dict[int, tuple[str, str]] = field(default_factory=dict)  # record → (kind, rule)


def _month(value: object) -> int | None:
    text = str(value) if value is not None and not (isinstance(value, float)
                                                    and np.isnan(value)) else ""
    digits = text.replace("-", "")[:6]
    return int(digits) if len(digits) == 6 and digits.isdigit() else None


def _months(first: object, last: object, default_last: int = 209912) -> tuple[int, int] | None:
    a = _month(first)
    if a is None:
        return None
    b = _month(last)
    return a, (b if b is not None else default_last)


def build_context(registrations: pd.DataFrame, person_xref: pd.DataFrame,
                  declared: pd.DataFrame, contributions: pd.DataFrame,
                  civil_service: pd.DataFrame) -> EmployerContext:
    """Join the facts behind the relational rule.

    registrations: registration_id, office, start_date, end_date, hukou_region_code
    (employment_service, the last from its person mention);
    person_xref: source, source_key, person_id; declared: employee_record_id,
    declaration_id, declaration_year, contract_start, contract_end; contributions:
    person_key, employer_key, first, last (YYYYMM); civil_service: staff_key, joined_on, year.
    """
    ctx = EmployerContext()
    xref = pd.DataFrame({"person_source": _texts(person_xref["source"]),
                         "person_key": _texts(person_xref["source_key"]),
                         "person_id": person_xref["person_id"].to_numpy(dtype=object)}) \
        if len(person_xref) else None
    # The registrations' offices and home counties (few distinct office texts).
    offices = registrations["office"].tolist()
    region_of = {o: region_from_text(o) for o in set(offices) if isinstance(o, str)}
    hukou = (registrations["hukou_region_code"].tolist() if "hukou_region_code" in registrations
             else [None] * len(registrations))
    for reg, office, home in zip(registrations["registration_id"].tolist(), offices, hukou,
                                 strict=True):
        region = region_of.get(office) if isinstance(office, str) else None
        if region:
            ctx.office_region[reg] = region
        if isinstance(home, str):
            ctx.hukou_region[reg] = home
    # Every employment fact as one frame, in the order the facts are read (a later fact
    # about an employer mention replaces an earlier one), months by column operations.
    parts = []
    reg = registrations["registration_id"].to_numpy(dtype=object)
    first, last = _months_of(registrations["start_date"], registrations["end_date"])
    parts.append(("employment_service", reg, "employment_service", reg, first, last))
    years = pd.to_numeric(declared["declaration_year"], errors="coerce").to_numpy(dtype=float)
    dated = ~np.isnan(years)
    year = np.where(dated, years, 0).astype(np.int64)
    start, end = _months_of(declared["contract_start"], declared["contract_end"])
    spanned = ~np.isnan(start)
    first = np.maximum(np.where(spanned, start, year * 100 + 1), year * 100 + 1)
    last = np.minimum(np.where(spanned, end, year * 100 + 12), year * 100 + 12)
    keep = dated & (first <= last)
    parts.append(("quota", declared["employee_record_id"].to_numpy(dtype=object)[keep], "quota",
                  declared["declaration_id"].to_numpy(dtype=object)[keep], first[keep],
                  last[keep]))
    first, last = _months_of(contributions["first"], contributions["last"])
    parts.append(("hr", contributions["person_key"].to_numpy(dtype=object), "hr",
                  contributions["employer_key"].to_numpy(dtype=object), first, last))
    years = pd.to_numeric(civil_service["year"], errors="coerce").to_numpy(dtype=float)
    dated = ~np.isnan(years)
    last = np.where(dated, years, 0).astype(np.int64) * 100 + 12
    joined = _month_column(civil_service["joined_on"])
    # `joined or last`: a missing (or zero) joining month starts the year's last month.
    first = np.where(np.isnan(joined) | (joined == 0), last, joined)
    staff = civil_service["staff_key"].to_numpy(dtype=object)[dated]
    parts.append(("org", staff, "org", staff, first[dated], last[dated]))
    if xref is None:
        return ctx
    facts = pd.concat([pd.DataFrame({"person_source": ps, "person_key": _texts(pk),
                                     "employer_source": es, "employer_key": ek,
                                     "first": f, "last": la})
                       for ps, pk, es, ek, f, la in parts], ignore_index=True)
    facts = facts[~(np.isnan(facts["first"].to_numpy(dtype=float))
                    | np.isnan(facts["last"].to_numpy(dtype=float)))]
    # The golden person of each fact's person mention (the xref is unique by mention).
    facts = facts.merge(xref.drop_duplicates(["person_source", "person_key"], keep="last"),
                        on=["person_source", "person_key"], how="inner", sort=False)
    facts = facts[facts["person_id"].map(lambda v: v is not None).to_numpy(dtype=bool)]
    mentions = list(zip(facts["employer_source"].tolist(), facts["employer_key"].tolist(),
                        strict=True))
    pids = facts["person_id"].tolist()
    months = list(zip(facts["first"].astype(np.int64).tolist(),
                      facts["last"].astype(np.int64).tolist(), strict=True))
    ctx.person_of = dict(zip(mentions, pids, strict=True))
    ctx.months_of = dict(zip(mentions, months, strict=True))
    for pid, mention, span in zip(pids, mentions, months, strict=True):
        ctx.employments.setdefault(pid, []).append((*mention, *span))
    return ctx


def _texts(values) -> np.ndarray:
    """Values as an object array (strings as they are)."""
    return np.asarray(values.to_numpy(dtype=object) if hasattr(values, "to_numpy") else values,
                      dtype=object)


def _month_column(values: pd.Series) -> np.ndarray:
    """_month of each value (NaN where None): ISO dates and YYYYMM texts by column
    operations, anything else one by one."""
    text = values.astype("string")
    digits = text.str.replace("-", "", regex=False).str.slice(0, 6)
    plain = digits.str.fullmatch(r"[0-9]{6}").fillna(False).to_numpy(dtype=bool)
    out = np.full(len(values), np.nan)
    out[plain] = digits[plain].astype(np.int64).to_numpy()
    # Six characters that are not six ASCII digits (other digits Python reads): per value.
    odd = np.flatnonzero(~plain & (digits.str.len() == 6).fillna(False).to_numpy(dtype=bool))
    for i in odd.tolist():
        month = _month(values.iat[i])
        out[i] = np.nan if month is None else month
    return out


def _months_of(first: pd.Series, last: pd.Series, default_last: int = 209912
               ) -> tuple[np.ndarray, np.ndarray]:
    """_months of two columns: (first, last) months, NaN where the first is unknown."""
    a, b = _month_column(first), _month_column(last)
    b = np.where(np.isnan(b), default_last, b)
    b[np.isnan(a)] = np.nan
    return a, b


def _county_named(name: str | None) -> str | None:
    """The county a name names unambiguously (a 6-digit code not ending in 00), else None."""
    if not name:
        return None
    code = region_from_text(name)
    return code if code and len(code) == 6 and not code.endswith("00") else None


def cores_compatible(a: str | None, b: str | None) -> bool:
    """Two trade-name cores that can name one employer (place prefixes aside)."""
    if not a or not b:
        return False
    if a == b or (len(a) >= 4 and a in b) or (len(b) >= 4 and b in a):
        return True
    return SequenceMatcher(None, a, b, autojunk=False).ratio() >= _CORE_SIMILARITY


def _org_index(features: pd.DataFrame) -> tuple[dict[tuple[str, str], int], list, list, list]:
    keys = {(s, k): i for i, (s, k) in enumerate(zip(features["source"], features["source_key"],
                                                     strict=True))}
    orgs = [v if isinstance(v, str) else None for v in features["org_code"].astype("object")]
    cores = [v if isinstance(v, str) else None for v in features["name_core"].astype("object")]
    labels = [v if isinstance(v, str) else None
              for v in features["branch_label"].astype("object")]
    return keys, orgs, cores, labels


def link_by_context(features: pd.DataFrame, ctx: EmployerContext,
                    cannot_link: Iterable[tuple[int, int]] = ()) -> ContextLinks:
    """Org codes for keyless employer mentions from the context, each with its reason.

    1. relational: the mention's golden person is employed, in overlapping months, by
       exactly one identified employer whose trade-name core fits the mention's name;
    2. county named: the name names its county unambiguously and exactly one identified
       employer with that core is registered there (organs: '黄岛区自然资源局');
    3. office region: the mention's core (and branch label) is the core of exactly one
       identified employer in the registering office's city — in the office's own county
       when that is also the person's home county (it may be their home office).
    A cannot-link override against a mention holding the code vetoes the link.
    """
    out = ContextLinks()
    if len(features) == 0:
        return out
    keys, orgs, cores, labels = _org_index(features)
    cities = [v if isinstance(v, str) else None for v in features["city_code"].astype("object")]
    names = [v if isinstance(v, str) else None for v in features["name"].astype("object")]
    # The cores and regions each org code is known by (mentions holding it).
    org_cores: dict[str, set[str]] = {}
    org_labels: dict[str, set[str | None]] = {}
    org_forms: dict[str, set[str | None]] = {}
    by_core_city: dict[tuple[str, str | None, str], set[str]] = {}
    regions = [v if isinstance(v, str) else None
               for v in features["region_code"].astype("object")]
    org_counties: dict[str, set[str]] = {}
    by_core_county: dict[tuple[str, str | None, str], set[str]] = {}
    for org, core, label, city, name, region in zip(orgs, cores, labels, cities, names,
                                                    regions, strict=True):
        if org is None:
            continue
        if core:
            org_cores.setdefault(org, set()).add(core)
            if city:
                by_core_city.setdefault((core, label, city), set()).add(org)
            if region:
                by_core_county.setdefault((core, label, region), set()).add(org)
        org_labels.setdefault(org, set()).add(label)
        if region:
            org_counties.setdefault(org, set()).add(region)
        org_forms.setdefault(org, set()).add(legal_form(name) if name else None)
    veto: dict[int, set[int]] = {}
    for a, b in cannot_link:
        veto.setdefault(a, set()).add(b)
        veto.setdefault(b, set()).add(a)

    def vetoed(i: int, org: str) -> bool:
        return any(orgs[j] == org for j in veto.get(i, ()))

    sources, source_keys = features["source"].tolist(), features["source_key"].tolist()
    for i in range(len(features)):
        if orgs[i] is not None:
            continue
        source, key = sources[i], source_keys[i]
        if source not in _SAME_ROW_SOURCES:
            continue
        core = cores[i]
        # 1. relational evidence
        pid = ctx.person_of.get((source, key))
        months = ctx.months_of.get((source, key))
        if pid is not None and core:
            found: dict[str, set[str]] = {}
            for e_source, e_key, first, last in ctx.employments.get(pid, ()):
                if (e_source, e_key) == (source, key):
                    continue
                if months is not None and (last < months[0] or first > months[1]):
                    continue
                j = keys.get((e_source, e_key))
                org = orgs[j] if j is not None else None
                if org is None or labels[i] not in org_labels.get(org, {None}):
                    continue
                if any(cores_compatible(core, c) for c in org_cores.get(org, ())):
                    found.setdefault(org, set()).add(e_source)
            if len(found) > 1:
                # Two employers of one person in those months: the name must decide alone.
                exact = {o: s for o, s in found.items() if core in org_cores.get(o, ())}
                found = exact if len(exact) == 1 else found
            if len(found) == 1:
                (org, via), = found.items()
                if not vetoed(i, org):
                    out.rows[i] = org
                    out.reasons[i] = ("relational",
                                      "same golden person employed there in the same months ("
                                      + ", ".join(sorted(via)) + ")")
                    continue
        # 2. an organ's (or any) name that names its county: the one employer of that
        # name core registered in that county ('黄岛区自然资源局')
        county = _county_named(names[i])
        if core and county:
            cands = by_core_county.get((core, labels[i], county), set())
            if len(cands) == 1:
                (org,) = cands
                if not vetoed(i, org):
                    out.rows[i] = org
                    out.reasons[i] = ("repair", "name core of the one employer registered in "
                                                "the county its name names")
                    continue
        # 3. name core within the registering office's city
        if source != "employment_service" or not core:
            continue
        region = ctx.office_region.get(key)
        if region is None or len(region) < 6:
            continue
        if cities[i] is not None and cities[i] != region[:4]:
            continue  # the name places the employer in another city: the model decides
        cands = by_core_city.get((core, labels[i], region[:4]), set())
        # An office in the person's own county may be their home office rather than the
        # employer's: then only an employer in that very county qualifies.
        home_office = ctx.hukou_region.get(key) == region
        if home_office or len(cands) > 1:
            in_county = {o for o in cands if region in org_counties.get(o, ())}
            cands = in_county if home_office or len(in_county) == 1 else cands
        if len(cands) > 1:
            form = legal_form(names[i]) if names[i] else None
            narrowed = {o for o in cands if form is not None and form in org_forms.get(o, ())}
            cands = narrowed if len(narrowed) == 1 else cands
        if len(cands) == 1:
            (org,) = cands
            if not vetoed(i, org):
                out.rows[i] = org
                out.reasons[i] = ("repair", "name core of one employer in the registering "
                                            "office's city")
    return out


def apply_links(features: pd.DataFrame, links: ContextLinks) -> np.ndarray:
    """Write context org codes into the features; mask of linked records."""
    mask = np.zeros(len(features), dtype=bool)
    if not links.rows:
        return mask
    rows = np.fromiter(links.rows, dtype=np.int64)
    if features["org_code"].dtype != "string":
        features["org_code"] = features["org_code"].astype("string")
    features.iloc[rows, features.columns.get_loc("org_code")] = list(links.rows.values())
    mask[rows] = True
    return mask


def ambiguous_name_records(features: pd.DataFrame) -> np.ndarray:
    """Mask of mentions with no identifier and no city whose trade-name core (and branch
    label) several identified employers carry: the name alone cannot say which one, so no
    model edge may place them (a context rule still can, by its own evidence)."""
    if len(features) == 0:
        return np.zeros(0, dtype=bool)
    orgs: dict[tuple[str, str | None], set[str]] = {}
    cores = _codes(features["name_core"])
    labels = _codes(features["branch_label"])
    for org, core, label in zip(_codes(features["org_code"]), cores, labels, strict=True):
        if org is not None and core is not None:
            orgs.setdefault((core, label), set()).add(org)
    free = (features["org_code"].isna() & features["city_code"].isna()
            & features["name_core"].notna()).to_numpy()
    hit = np.fromiter((len(orgs.get((c, lb), ())) > 1 for c, lb in zip(cores, labels,
                                                                        strict=True)),
                      dtype=bool, count=len(cores))
    return free & hit


# Sources whose rows may carry neither ID nor certificate number (issue: ID-less rows).
IDLESS_SOURCES = ("employment_service", "unemployed_survey")


def _codes(series: pd.Series) -> list:
    return [None if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else v
            for v in series.astype("object").tolist()]


def person_employer_cores(employer_mentions: pd.DataFrame, declared: pd.DataFrame,
                          contributions: pd.DataFrame) -> dict[tuple[str, str], set[str]]:
    """Trade-name cores of the employers each person mention is employed by.

    employer_mentions: source, source_key, name; declared: employee_record_id,
    declaration_id; contributions: person_key, employer_key (distinct pairs).
    """
    from quotalink.standardise import employer_name_key

    core_of: dict[tuple[str, str], str] = {}
    for src, key, name in zip(employer_mentions["source"], employer_mentions["source_key"],
                              employer_mentions["name"], strict=True):
        core = employer_name_key(name).core if isinstance(name, str) else None
        if core:
            core_of[(src, key)] = core
    out: dict[tuple[str, str], set[str]] = {}
    for (src, key), core in core_of.items():
        if src == "employment_service":
            out.setdefault((src, key), set()).add(core)
    for rec, decl in zip(declared["employee_record_id"], declared["declaration_id"], strict=True):
        core = core_of.get(("quota", decl))
        if core:
            out.setdefault(("quota", rec), set()).add(core)
    for person, employer in zip(contributions["person_key"], contributions["employer_key"],
                                strict=True):
        core = core_of.get(("hr", employer))
        if core:
            out.setdefault(("hr", person), set()).add(core)
    return out


# The rules recorded for ID-less mentions, by the pass that linked them (explain.py gives
# each its Chinese reason).
IDLESS_NAME_RULE = ("no ID: the one person of that name, gender, category and level with its "
                    "county or phone (or its employer)")
IDLESS_SOUND_RULE = ("no ID: the one person whose name sounds the same, of that category and "
                     "level, with its county or phone and no other employer")

IDLESS_MOVED_RULE = ("no ID: the one person of that name, category and level whose ID number "
                     "names its county (the household before a move), at its employer")

# Syllable spellings that clerks' pinyin input confuses (the initials zh/ch/sh and z/c/s,
# the finals -ing/-in and -eng/-en): one key for the names a clerk could have typed.
_FUZZY_INITIAL = re.compile(r"^([zcs])h")
_FUZZY_FINAL = re.compile(r"([ie])ng$")


def name_sound_key(pinyin: object) -> str | None:
    """The toneless pinyin of a name with the spellings clerks confuse made one
    ('chen ying lin' and 'chen ying ling' → 'cen yin lin')."""
    if not isinstance(pinyin, str) or not pinyin:
        return None
    return " ".join(_FUZZY_FINAL.sub(r"\1n", _FUZZY_INITIAL.sub(r"\1", syl))
                    for syl in pinyin.split())


def name_sound_keys(name: object, first: str | None, limit: int = 16) -> set[str]:
    """Every `name_sound_key` a name can be read as (its first reading `first` included):
    a clerk's polyphone (靓 jìng / liàng) may stand for a character of its other reading."""
    from itertools import islice, product

    from pypinyin import Style, pinyin

    keys = {first} if first else set()
    if isinstance(name, str) and name:
        readings = pinyin(name, style=Style.NORMAL, heteronym=True, errors="ignore")
        for combo in islice(product(*readings), limit):
            key = name_sound_key(" ".join(combo).lower())
            if key:
                keys.add(key)
    return keys


def _sound_keys(pinyins: pd.Series) -> pd.Series:
    uniq = pd.unique(pinyins.astype("object"))
    return pinyins.astype("object").map(_sound_key_map(uniq))


def _sound_key_map(values) -> dict:
    """name_sound_key of each distinct value: plain pinyin (lower-case syllables, one
    space apart: nearly all) by two regular-expression replacements over the column, the
    rest one by one."""
    import pyarrow as pa
    import pyarrow.compute as pc

    values = list(values)
    text = pa.array([v if isinstance(v, str) else None for v in values], type=pa.string())
    plain = pc.fill_null(pc.match_substring_regex(text, r"^[a-z]+( [a-z]+)*$"), False)
    plain = plain.to_numpy(zero_copy_only=False)
    keys = pc.replace_substring_regex(text, r"(^| )([zcs])h", r"\1\2")
    keys = pc.replace_substring_regex(keys, r"([ie])ng( |$)", r"\1n\2").to_pylist()
    return {v: keys[i] if plain[i] else name_sound_key(v) for i, v in enumerate(values)}


def link_idless_persons(features: pd.DataFrame,
                        employer_cores: dict[tuple[str, str], set[str]] | None = None,
                        *, sounded: set[int] | None = None, moved: set[int] | None = None
                        ) -> tuple[dict[int, str], np.ndarray]:
    """Valid IDs for mentions that carry no ID at all, from the golden person they can only be.

    A mention of an ID-less source without ID, certificate or ID head is matched on its
    standardised name against the persons holding a valid ID: a candidate must agree on
    every field both sides give (gender, disability category and level) and share the
    household-registration county or the phone number with one of its mentions. Exactly
    one candidate links the mention; of several, the one employed by an employer whose
    trade-name core fits the mention's employer (`employer_cores`, by mention) does; else
    the mention stays on its own — and no model edge may join it to anyone — since a coin
    toss between namesakes is not evidence. A mention no person of its exact name fits may
    be a clerk's homophone: the one person whose name sounds the same (`name_sound_key`)
    and who gives its category and level, its county or phone, no other gender and no other
    employer takes it (those records are added to `sounded`); two such persons make it
    ambiguous. A mention whose county is the one its namesake's ID number names (the
    household before a move) takes that person only at a matching employer (`moved`).
    Returns (record → ID, mask of ambiguous records).
    """
    employer_cores = employer_cores or {}
    n = len(features)
    ambiguous = np.zeros(n, dtype=bool)
    fixed: dict[int, str] = {}
    if n == 0:
        return fixed, ambiguous
    free = (features["id_key"].isna() & features["id_head14"].isna()
            & features["cert_number"].isna() & features["full_name"].notna()
            & features["source"].isin(IDLESS_SOURCES)).to_numpy()
    if not free.any():
        return fixed, ambiguous
    has_id = features["id_key"].notna()
    sound = pd.Series(None, index=features.index, dtype="object")
    if "name_pinyin" in features:
        sound = _sound_keys(features["name_pinyin"])
    # A free mention's name by every reading of its characters; a person's by its first.
    heard_as = {i: name_sound_keys(name, snd) for i, name, snd in zip(
        np.flatnonzero(free).tolist(), features["full_name"].to_numpy()[free],
        sound.to_numpy()[free], strict=True)}
    free_sounds = set().union(*heard_as.values()) if heard_as else set()
    keyed_mask = has_id & (features["full_name"].isin(set(features.loc[free, "full_name"]))
                           | sound.isin(free_sounds))
    keyed = features[keyed_mask]
    by_name: dict[str, dict[str, dict[str, set]]] = {}
    # The same persons by the sound of their name, for a clerk's homophone of it.
    by_sound: dict[str, dict[str, dict[str, set]]] = {}
    for src, skey, name, snd, key, sex, cat, lvl, hukou, phone in zip(
            keyed["source"], keyed["source_key"],
            keyed["full_name"], sound[keyed_mask].tolist(), keyed["id_key"],
            _codes(keyed["gender"]),
            _codes(keyed["disability_category"]), _codes(keyed["disability_level"]),
            _codes(keyed["hukou_region_code"]), _codes(keyed["phone"]), strict=True):
        facts = by_name.setdefault(name, {}).setdefault(
            key, {"sex": set(), "cat": set(), "lvl": set(), "hukou": set(), "phone": set(),
                  "emp": set()})
        if snd is not None:
            by_sound.setdefault(snd, {})[key] = facts
        facts["emp"].update(employer_cores.get((src, skey), ()))
        for field_name, value in (("sex", sex), ("cat", cat), ("lvl", lvl),
                                  ("hukou", hukou), ("phone", phone)):
            if value is not None:
                facts[field_name].add(value)
    rows = np.flatnonzero(free)
    sub = features.iloc[rows]
    for i, src, skey, name, sex, cat, lvl, hukou, phone in zip(
            rows.tolist(), sub["source"], sub["source_key"], sub["full_name"],
            _codes(sub["gender"]),
            _codes(sub["disability_category"]), _codes(sub["disability_level"]),
            _codes(sub["hukou_region_code"]), _codes(sub["phone"]), strict=True):
        cands = []
        for key, facts in by_name.get(name, {}).items():
            if _contradicts(facts, sex, cat, lvl):
                continue
            if (hukou is not None and hukou in facts["hukou"]) or (
                    phone is not None and phone in facts["phone"]):
                cands.append(key)
        mine = employer_cores.get((src, skey), set())
        if len(cands) > 1 and mine:
            persons = by_name[name]
            at_employer = [k for k in cands if any(cores_compatible(a, b) for a in mine
                                                   for b in persons[k]["emp"])]
            if len(at_employer) == 1:
                cands = at_employer
        if not cands and hukou is not None and mine:
            # A person who moved: the registration gives the county of the household before
            # the move, which the ID number names when the person was registered there at
            # birth; with the same name and facts, taken only at a matching employer.
            born = [k for k, facts in by_name.get(name, {}).items()
                    if k[:6] == hukou and not _contradicts(facts, sex, cat, lvl)
                    and any(cores_compatible(a, b) for a in mine for b in facts["emp"])]
            if len(born) == 1:
                fixed[i] = born[0]
                if moved is not None:
                    moved.add(i)
                continue
        if not cands and hukou is not None and cat is not None and lvl is not None:
            # The same move where no employer of the person is known elsewhere (a job only
            # the employment service records): the one person of that name born in the
            # county, who gives the category and level and no other gender, and whose
            # employers, if any are known, include none the mention contradicts.
            born = [k for k, facts in by_name.get(name, {}).items()
                    if k[:6] == hukou and cat in facts["cat"] and lvl in facts["lvl"]
                    and not (sex is not None and facts["sex"] and sex not in facts["sex"])
                    and not (mine and facts["emp"])]
            if len(born) == 1 and len(by_name.get(name, {})) == 1:
                fixed[i] = born[0]
                if moved is not None:
                    moved.add(i)
                continue
        if not cands and heard_as.get(i) and cat is not None and lvl is not None:
            # No person of that exact name fits: a clerk's homophone of a name, if exactly
            # one person whose name sounds the same gives the category and level, no other
            # gender, the county or the phone, and no other employer.
            sounding = {k: f for key in heard_as[i] for k, f in by_sound.get(key, {}).items()}
            heard = _sound_candidates(sounding, sex, cat, lvl, hukou,
                                      phone, employer_cores.get((src, skey), set()))
            if len(heard) == 1:
                fixed[i] = heard[0]
                if sounded is not None:
                    sounded.add(i)
                continue
            if len(heard) > 1:
                ambiguous[i] = True
                continue
        if len(cands) == 1:
            fixed[i] = cands[0]
        elif len(cands) > 1 or len(by_name.get(name, {})) > 1:
            # Several persons of that name: without a deciding fact it stays unlinked.
            ambiguous[i] = not cands or len(cands) > 1
    return fixed, ambiguous


def _contradicts(facts: dict[str, set], sex, cat, lvl) -> bool:
    """A gender, category or level the mention gives and the person's mentions do not."""
    return any(v is not None and facts[f] and v not in facts[f]
               for f, v in (("sex", sex), ("cat", cat), ("lvl", lvl)))


def _sound_candidates(persons: dict[str, dict[str, set]], sex, cat, lvl, hukou,
                      phone, mine: set[str]) -> list[str]:
    """Persons whose name sounds like the mention's and whose facts fit it strictly."""
    out = []
    for key, facts in persons.items():
        if cat not in facts["cat"] or lvl not in facts["lvl"] or (
                sex is not None and facts["sex"] and sex not in facts["sex"]):
            continue
        if not ((hukou is not None and hukou in facts["hukou"])
                or (phone is not None and phone in facts["phone"])):
            continue
        if mine and facts["emp"] and not any(cores_compatible(a, b) for a in mine
                                             for b in facts["emp"]):
            continue
        out.append(key)
    return out
