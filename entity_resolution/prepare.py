"""Prepare staging mentions for linking: comparison features and exact-link keys."""

import pandas as pd

from quotalink.standardise import (
    check_character,
    employer_name_key,
    id_core17,
    id_from_cert,
    id_head14,
    looks_float_damaged,
    name_pinyin,
    normalise_cert,
    normalise_employer_name,
    normalise_id,
    normalise_name,
    normalise_org_code,
    normalise_uscc,
    org_code_of_uscc,
)
from quotalink.standardise.ids import ID18
from quotalink.standardise.regions import city_names

PERSON_COLUMNS = (
    "source", "source_key", "full_name", "id_number", "id_number_raw", "id_quality",
    "cert_number", "gender", "birth_date", "birth_year_min", "birth_year_max", "phone",
    "hukou_region_code", "disability_category", "disability_level", "observed_on",
)
EMPLOYER_COLUMNS = (
    "source", "source_key", "name", "uscc", "org_code", "region_code", "unit_type",
    "observed_on",
)


def _with_lineage(columns: tuple[str, ...], mentions: pd.DataFrame) -> list[str]:
    """The feature columns, plus the mention's delivery when read (survivorship records
    which delivery supplied each golden value; no comparison uses it)."""
    return [*columns, *(["delivery"] if "delivery" in mentions else [])]


def _text(series: pd.Series) -> pd.Series:
    """A nullable string column with blanks as missing."""
    if isinstance(series.dtype, pd.StringDtype):
        # Text read from the warehouse already: no detour through Python objects.
        out = series.astype("string").str.strip()
        return out.mask(out == "")
    out = series.astype("object").where(series.notna(), None).astype("string").str.strip()
    return out.mask(out == "")


def _strings(values: list) -> pd.array:
    """A list with None for missing as a nullable string array (also when all missing)."""
    return pd.array(values, dtype="string")


def _per_unique(series: pd.Series, fn) -> list:
    """fn applied once per distinct value (names repeat across a person's mentions)."""
    values = _objects(series)
    done = {v: fn(v) for v in set(values)}
    return [done[v] for v in values]


def _objects(series: pd.Series) -> list:
    """Values as a Python list with every missing value as None."""
    return [v if isinstance(v, str) else None for v in series.tolist()]


def _legacy_form(idn: str) -> str:
    """The 15-digit form of an 18-character ID (century and check removed)."""
    return idn[:6] + idn[8:17]


# Only spreadsheet deliveries turn an 18-digit ID into a float (15 digits + 000); in the
# other sources an ID ending in 000 is just an ID.
_SPREADSHEET_SOURCES = frozenset({"training", "graduates"})


def _person_id_key(row_id: object, raw: object, cert: object, born: object,
                   spreadsheet: bool = True) -> str | None:
    """The valid 18-character ID of a mention: its ID column, else its certificate's ID.

    A legacy 15-digit number is widened with century 19 by convention; when the mention's
    own certificate or birth date says the holder was born in the 2000s, that wins.
    """
    value = normalise_id(row_id).value if isinstance(row_id, str) and row_id else None
    if value is None and isinstance(raw, str):
        value = normalise_id(raw).value
    cert_id = id_from_cert(cert)
    if spreadsheet and value is not None and looks_float_damaged(value) and value != cert_id:
        # An ID read back from an Excel number passes its check 1 time in 11 by chance:
        # too weak to link or to keep two records apart; its first 15 digits still count.
        value = None
    if value is not None and cert_id is not None and value != cert_id \
            and _legacy_form(value) == _legacy_form(cert_id):
        value = cert_id
    elif value is not None and isinstance(raw, str) and len(raw.strip()) == 15 \
            and isinstance(born, str) and born[:2] == "20" and value[6:8] == "19":
        core = value[:6] + "20" + value[8:17]
        value = core + check_character(core)
    if value is None:
        value = cert_id
    return value


def _core_and_head(key: str | None, raw: str | None, cert: str | None
                   ) -> tuple[str | None, str | None]:
    """17-digit core and 14-digit head (region + birth date) for fuzzy ID comparison."""
    if key is not None and ID18.match(key) and not looks_float_damaged(key):
        # A valid key is its own core (what id_core17 gives it): most mentions.
        return key[:17], key[:14]
    source = key or raw
    if key is None and raw and looks_float_damaged(raw.strip()):
        source = None  # only the first 15 digits survived: the head below still uses them
    raw_core = id_core17(raw) if key is None and cert and raw else None
    if raw_core and cert[:17] != raw_core \
            and _legacy_form(cert[:17] + "0") == _legacy_form(raw_core + "0"):
        source = cert
    core = id_core17(source) or (cert[:17] if cert else None)
    return core, (core[:14] if core else id_head14(raw))


def _is_legacy(raw: object) -> bool:
    return isinstance(raw, str) and len(raw.strip()) == 15 and raw.strip().isdigit()


def _legacy_flags(raw_ids: list) -> list[bool]:
    """_is_legacy of each value, read once per distinct value."""
    done = {raw: _is_legacy(raw) for raw in set(raw_ids)}
    return [done[raw] for raw in raw_ids]


def _resolve_centuries(id_keys: list, raw_ids: list, df: pd.DataFrame) -> None:
    """Give a widened 15-digit ID the century the 18-digit IDs of the data agree on.

    Widening assumes 19xx; where 18-digit mentions hold exactly one ID with the same
    15-digit form (born 20xx), that ID is the person's. Birth dates follow the key.
    """
    legacy = _legacy_flags(raw_ids)
    todo = [i for i, old in enumerate(legacy) if old and id_keys[i] is not None]
    by_legacy: dict[str, set[str]] = {}
    # Each distinct 18-digit key once (a person's mentions repeat it).
    for key in {k for k, old in zip(id_keys, legacy, strict=True) if k is not None and not old}:
        by_legacy.setdefault(_legacy_form(key), set()).add(key)
    births = df["birth_date"].astype("object").tolist()
    for i in todo:
        key = id_keys[i]
        candidates = by_legacy.get(_legacy_form(key), set())
        if len(candidates) == 1 and key not in candidates:
            id_keys[i] = next(iter(candidates))
            births[i] = f"{id_keys[i][6:10]}-{id_keys[i][10:12]}-{id_keys[i][12:14]}"
    df["birth_date"] = pd.Series(births, index=df.index, dtype="object")


def warm_up_persons() -> None:
    """Load what the person standardisers load on first use (pinyin dictionaries, the
    simplified-character table): run in a background thread while the mentions are read,
    so prepare_persons does not start with it."""
    name_pinyin(normalise_name("王伟"))
    normalise_cert("37010219350315021813")
    normalise_id("370102193503150218")


def prepare_persons(mentions: pd.DataFrame) -> pd.DataFrame:
    """Feature frame of person mentions, one row each, `unique_id` 0…n-1 in key order.

    Staging has standardised values already; the features added here are the ones only
    linking needs (pinyin, ID core and head, birth-year window, city of the hukou).
    """
    df = mentions.reindex(columns=_with_lineage(PERSON_COLUMNS, mentions)).copy()
    df = df.sort_values(["source", "source_key"], kind="stable").reset_index(drop=True)
    df.insert(0, "unique_id", range(len(df)))
    for col in ("source", "source_key", "full_name", "id_number", "id_number_raw",
                "cert_number", "gender", "phone", "hukou_region_code"):
        df[col] = _text(df[col])
    df["full_name"] = _strings(_per_unique(df["full_name"], normalise_name))
    df["cert_number"] = _strings(_per_unique(df["cert_number"], normalise_cert))
    raw_ids = _objects(df["id_number_raw"].where(df["id_number_raw"].notna(), df["id_number"]))
    certs = _objects(df["cert_number"])
    given_birth = _objects(pd.to_datetime(df["birth_date"], errors="coerce")
                           .dt.strftime("%Y-%m-%d"))
    # A person's mentions repeat the same values: each distinct combination is read once.
    spreadsheet = df["source"].isin(_SPREADSHEET_SOURCES).tolist()
    combos = list(zip(_objects(df["id_number"]), raw_ids, certs, given_birth, spreadsheet,
                      strict=True))
    known_keys = {c: _person_id_key(*c) for c in set(combos)}
    id_keys = [known_keys[c] for c in combos]
    _resolve_centuries(id_keys, raw_ids, df)
    df["id_key"] = _strings(id_keys)
    combos = list(zip(id_keys, raw_ids, certs, strict=True))
    known_parts = {c: _core_and_head(*c) for c in set(combos)}
    cores = [known_parts[c][0] for c in combos]
    heads = [known_parts[c][1] for c in combos]
    df["id_core17"] = _strings(cores)
    df["id_head14"] = _strings(heads)
    df["name_pinyin"] = _strings(_per_unique(df["full_name"], name_pinyin))
    df["surname"] = df["full_name"].str.slice(0, 1)
    birth = pd.to_datetime(df["birth_date"], errors="coerce")
    # A birth date missing in the source can still be read from the ID's head.
    from_head = pd.to_datetime(df["id_head14"].str.slice(6, 14), format="%Y%m%d",
                               errors="coerce")
    birth = birth.fillna(from_head)
    df["birth_date"] = birth.dt.strftime("%Y-%m-%d").astype("string")
    year = birth.dt.year.astype("Int64")
    df["birth_year_min"] = year.fillna(pd.to_numeric(df["birth_year_min"], errors="coerce")
                                       .astype("Int64"))
    df["birth_year_max"] = year.fillna(pd.to_numeric(df["birth_year_max"], errors="coerce")
                                       .astype("Int64"))
    df["hukou_city"] = df["hukou_region_code"].str.slice(0, 4)
    df["disability_category"] = pd.to_numeric(df["disability_category"],
                                              errors="coerce").astype("Int64")
    df["disability_level"] = pd.to_numeric(df["disability_level"], errors="coerce").astype(
        "Int64")
    for col in ("full_name", "cert_number", "id_key", "id_core17", "id_head14", "name_pinyin"):
        df[col] = df[col].astype("string")
    return df


def prepare_employers(mentions: pd.DataFrame) -> pd.DataFrame:
    """Feature frame of employer mentions: name key parts, identifiers, region parts."""
    df = mentions.reindex(columns=_with_lineage(EMPLOYER_COLUMNS, mentions)).copy()
    df = df.sort_values(["source", "source_key"], kind="stable").reset_index(drop=True)
    df.insert(0, "unique_id", range(len(df)))
    for col in ("source", "source_key", "name", "uscc", "org_code", "region_code", "unit_type"):
        df[col] = _text(df[col])
    # An employer's name and codes repeat across its mentions: each value is read once.
    df["name"] = _strings(_per_unique(df["name"], normalise_employer_name))
    raw_uscc = df["uscc"].tolist()
    df["uscc"] = _strings(_per_unique(df["uscc"], normalise_uscc))
    # An old 9-character code typed into the credit-code column is still an org code.
    given_org = [normalise_org_code(o) or normalise_org_code(u)
                 for o, u in zip(df["org_code"].tolist(), raw_uscc, strict=True)]
    df["org_code"] = _strings([org_code_of_uscc(u) or g
                               for u, g in zip(_objects(df["uscc"]), given_org, strict=True)])
    keys = [employer_name_key(n) for n in df["name"].tolist()]
    df["name_core"] = pd.array([k.core for k in keys], dtype="string")
    df["name_city"] = pd.array([k.city for k in keys], dtype="string")
    df["is_branch"] = [k.is_branch for k in keys]
    df["branch_label"] = pd.array([k.branch_label for k in keys], dtype="string")
    city_codes = {short: code for code, _full, short in city_names()}
    from_name = df["name_city"].map(city_codes)
    # The city of an employer: its region code, else a city named in its name.
    df["city_code"] = df["region_code"].str.slice(0, 4).fillna(from_name).astype("string")
    for col in ("name", "uscc", "org_code"):
        df[col] = df[col].astype("string")
    return df
