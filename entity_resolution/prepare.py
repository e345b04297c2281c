"""Prepare staging mentions for linking: comparison features and exact-link keys."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

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
    strip_quote_marks,
)
from quotalink.standardise.ids import (
    ID18,
    canonical_mask,
    char_matrix,
    check_characters,
    float_damaged_rows,
    valid_id18_mask,
)
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


def _sorted_by_key(df: pd.DataFrame) -> pd.DataFrame:
    """The rows in (source, source_key) order, stable, a fresh frame with a plain index.

    Arrow sorts the two text columns (by code point, as Python compares text) several
    times faster than pandas' sort of them; missing keys last, as pandas puts them."""
    keys = pa.table({c: pa.array(df[c], from_pandas=True) for c in ("source", "source_key")})
    order = pc.sort_indices(keys, sort_keys=[("source", "ascending", "at_end"),
                                             ("source_key", "ascending", "at_end")]).to_numpy()
    return df.take(order).reset_index(drop=True)


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


def _text_per_unique(series: pd.Series, fn) -> pd.Series:
    """_strings(_per_unique(series, fn)) for a text-valued fn, spread back by the codes of
    the distinct values rather than per row in Python."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    done = pa.array([fn(v if isinstance(v, str) else None) for v in uniques.tolist()]
                    + [fn(None)], type=pa.large_string())
    codes = np.where(codes < 0, len(uniques), codes)
    return pd.Series(pd.array(pa.chunked_array([done.take(pa.array(codes))]),
                              dtype="string"), index=series.index)


def _objects(series: pd.Series) -> list:
    """Values as a Python list with every missing value as None."""
    return [v if isinstance(v, str) else None for v in series.tolist()]


def _legacy_form(idn: str) -> str:
    """The 15-digit form of an 18-character ID (century and check removed)."""
    return idn[:6] + idn[8:17]


# Only spreadsheet deliveries turn an 18-digit ID into a float (15 digits + 000); in the
# other sources an ID ending in 000 is just an ID.
SPREADSHEET_SOURCES = frozenset({"training", "graduates"})


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
    elif value is not None and isinstance(raw, str) and len(_typed(raw)) == 15 \
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


def _typed(raw: str) -> str:
    """A typed ID without surrounding spaces and quote marks (Excel's leading apostrophe)."""
    return strip_quote_marks(raw.strip()).strip()


def _is_legacy(raw: object) -> bool:
    return isinstance(raw, str) and len(_typed(raw)) == 15 and _typed(raw).isdigit()


_CANONICAL_ID18 = r"^[0-9]{17}[0-9X]$"


def _legacy_mask(raw: pd.Series) -> np.ndarray:
    """_is_legacy of each value: judged in Python only where it can hold (15 or more
    characters, and not the 18 plain characters most values are), once per value."""
    maybe = (raw.str.len() >= 15).fillna(False).to_numpy(dtype=bool) \
        & ~canonical_mask(raw, _CANONICAL_ID18)
    out = np.zeros(len(raw), dtype=bool)
    rows = np.flatnonzero(maybe)
    if len(rows):
        values = raw.iloc[rows].tolist()
        done = {v: _is_legacy(v) for v in set(values)}
        out[rows] = [done[v] for v in values]
    return out


def _legacy_forms(keys: pd.Series) -> pd.Series:
    """_legacy_form of a column of 18-character IDs."""
    return keys.str.slice(0, 6) + keys.str.slice(8, 17)


def _resolve_centuries(id_keys: pd.Series, raw: pd.Series, df: pd.DataFrame) -> pd.Series:
    """Give a widened 15-digit ID the century the 18-digit IDs of the data agree on.

    Widening assumes 19xx; where 18-digit mentions hold exactly one ID with the same
    15-digit form (born 20xx), that ID is the person's. Birth dates follow the key.
    Returns the keys (a new column); updates df["birth_date"].
    """
    legacy = _legacy_mask(raw)
    has_key = id_keys.notna().to_numpy()
    todo = np.flatnonzero(legacy & has_key)
    births = df["birth_date"].astype("object").to_numpy(copy=True)
    if len(todo):
        # Each distinct 18-digit key once (a person's mentions repeat it).
        plain = pd.Series(pd.unique(id_keys[~legacy & has_key]), dtype="string")
        forms = _legacy_forms(plain)
        single = ~forms.duplicated(keep=False)
        only = pd.Series(plain[single].to_numpy(), index=forms[single].to_numpy())
        keys = id_keys.iloc[todo]
        cand = _legacy_forms(keys).map(only)
        move = (cand.notna() & (cand != keys)).fillna(False).to_numpy(dtype=bool)
        if move.any():
            id_keys = id_keys.copy()
            rows = todo[move]
            new = cand[move].astype("string")
            id_keys.iloc[rows] = new.to_numpy()
            births[rows] = (new.str.slice(6, 10) + "-" + new.str.slice(10, 12) + "-"
                            + new.str.slice(12, 14)).to_numpy(dtype=object)
    df["birth_date"] = pd.Series(births, index=df.index, dtype="object")
    return id_keys


def _person_id_keys(row_ids: pd.Series, raw: pd.Series, certs: pd.Series,
                    born: pd.Series, spreadsheet: np.ndarray) -> pd.Series:
    """_person_id_key of every mention: the mentions whose ID column holds a valid ID as
    it stands (most; not from a spreadsheet) by column operations, the rest once per
    distinct combination of values."""
    n = len(row_ids)
    fast = valid_id18_mask(row_ids) & ~spreadsheet
    keys = row_ids.astype("string").copy()
    cert_ids = certs.str.slice(0, 18)
    # The certificate's ID wins over one of the same 15-digit form.
    other = (cert_ids.notna() & (cert_ids != keys)
             & (_legacy_forms(keys) == _legacy_forms(cert_ids))).fillna(False)
    swap = fast & other.to_numpy(dtype=bool)
    keys[swap] = cert_ids[swap]
    # A 15-digit ID widened to 19xx whose holder the birth date says was born in the
    # 2000s: judged per value (few mentions can be such).
    born_20 = (born.str.slice(0, 2) == "20").fillna(False).to_numpy(dtype=bool)
    in_19 = (keys.str.slice(6, 8) == "19").fillna(False).to_numpy(dtype=bool)
    widen = np.flatnonzero(fast & ~swap & born_20 & in_19)
    if len(widen):
        short = np.array([isinstance(r, str) and len(_typed(r)) == 15
                          for r in raw.iloc[widen].tolist()], dtype=bool)
        widen = widen[short]
    if len(widen):
        value = keys.iloc[widen]
        core = value.str.slice(0, 6) + "20" + value.str.slice(8, 17)
        check = check_characters(char_matrix(core, 17)).tobytes().decode("ascii")
        keys.iloc[widen] = (core + pd.Series(list(check), index=core.index)).to_numpy()
    slow = np.flatnonzero(~fast)
    if len(slow):
        combos = list(zip(_objects(row_ids.iloc[slow]), _objects(raw.iloc[slow]),
                          _objects(certs.iloc[slow]), _objects(born.iloc[slow]),
                          spreadsheet[slow].tolist(), strict=True))
        known = {c: _person_id_key(*c) for c in set(combos)}
        keys.iloc[slow] = pd.array([known[c] for c in combos], dtype="string")
    assert len(keys) == n
    return keys


def _cores_and_heads(keys: pd.Series, raw: pd.Series, certs: pd.Series
                     ) -> tuple[pd.Series, pd.Series]:
    """_core_and_head of every mention: a valid key that is no Excel damage (most) is
    its own core, by column operations; the rest once per distinct combination."""
    fast = canonical_mask(keys, _CANONICAL_ID18)
    rows = np.flatnonzero(fast)
    fast[rows] = ~float_damaged_rows(char_matrix(keys.iloc[rows], 18))
    cores = keys.str.slice(0, 17).astype("string")
    heads = keys.str.slice(0, 14).astype("string")
    slow = np.flatnonzero(~fast)
    if len(slow):
        combos = list(zip(_objects(keys.iloc[slow]), _objects(raw.iloc[slow]),
                          _objects(certs.iloc[slow]), strict=True))
        known = {c: _core_and_head(*c) for c in set(combos)}
        cores.iloc[slow] = pd.array([known[c][0] for c in combos], dtype="string")
        heads.iloc[slow] = pd.array([known[c][1] for c in combos], dtype="string")
    return cores, heads


def _certificates(certs: pd.Series) -> pd.Series:
    """normalise_cert of a column: a certificate number already in canonical form is
    itself when the ID it starts with is valid (column operations), others one by one."""
    fast = canonical_mask(certs, r"^[0-9]{17}[0-9X][0-9A-Z]{2,4}$")
    rows = np.flatnonzero(fast)
    out = certs.astype("string").copy()
    if len(rows):
        valid = valid_id18_mask(certs.iloc[rows].str.slice(0, 18))
        out.iloc[rows[~valid]] = pd.NA
    slow = np.flatnonzero(~fast)
    if len(slow):
        out.iloc[slow] = _strings(_per_unique(certs.iloc[slow], normalise_cert))
    return out


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
    df = _sorted_by_key(mentions.reindex(columns=_with_lineage(PERSON_COLUMNS, mentions)))
    df.insert(0, "unique_id", range(len(df)))
    for col in ("source", "source_key", "full_name", "id_number", "id_number_raw",
                "cert_number", "gender", "phone", "hukou_region_code"):
        df[col] = _text(df[col])
    df["full_name"] = _text_per_unique(df["full_name"], normalise_name)
    df["cert_number"] = _certificates(df["cert_number"])
    raw = df["id_number_raw"].where(df["id_number_raw"].notna(), df["id_number"])
    given_birth = pd.to_datetime(df["birth_date"], errors="coerce").dt.strftime("%Y-%m-%d")
    spreadsheet = df["source"].isin(SPREADSHEET_SOURCES).to_numpy(dtype=bool)
    id_keys = _person_id_keys(df["id_number"], raw, df["cert_number"],
                              given_birth.astype("string"), spreadsheet)
    df["id_key"] = _resolve_centuries(id_keys, raw, df).astype("string")
    df["id_core17"], df["id_head14"] = _cores_and_heads(df["id_key"], raw, df["cert_number"])
    df["name_pinyin"] = _text_per_unique(df["full_name"], name_pinyin)
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
    df = _sorted_by_key(mentions.reindex(columns=_with_lineage(EMPLOYER_COLUMNS, mentions)))
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
