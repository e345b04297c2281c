"""Prepare staging mentions for linking: comparison features and exact-link keys."""

import pandas as pd

from entity_resolution.standardise import (
    employer_name_key,
    id_core17,
    id_from_cert,
    id_head14,
    name_pinyin,
    normalise_cert,
    normalise_employer_name,
    normalise_id,
    normalise_name,
    normalise_org_code,
    normalise_uscc,
    org_code_of_uscc,
)
from entity_resolution.standardise.regions import city_names

PERSON_COLUMNS = (
    "source", "source_key", "full_name", "id_number", "id_number_raw", "id_quality",
    "cert_number", "gender", "birth_date", "birth_year_min", "birth_year_max", "phone",
    "hukou_region_code", "disability_category", "disability_level", "observed_on",
)
EMPLOYER_COLUMNS = (
    "source", "source_key", "name", "uscc", "org_code", "region_code", "unit_type",
    "observed_on",
)


def _text(series: pd.Series) -> pd.Series:
    """A nullable string column with blanks as missing."""
    out = series.astype("string").str.strip()
    return out.mask(out == "")


def _objects(series: pd.Series) -> list:
    """Values as a Python list with every missing value as None."""
    return [v if isinstance(v, str) else None for v in series.tolist()]


def _person_id_key(row_id: object, raw: object, cert: object) -> str | None:
    """The valid 18-character ID of a mention: its ID column, else its certificate's ID."""
    value = normalise_id(row_id).value if isinstance(row_id, str) and row_id else None
    if value is None and isinstance(raw, str):
        value = normalise_id(raw).value
    if value is None:
        value = id_from_cert(cert)
    if value is not None and value.endswith("000"):
        # Excel zero-fills the tail of a float-damaged ID; 1 in 11 such values passes the
        # check by chance. Too weak to link or to keep two records apart on its own.
        return None
    return value


def prepare_persons(mentions: pd.DataFrame) -> pd.DataFrame:
    """Feature frame of person mentions, one row each, `unique_id` 0…n-1 in key order.

    Staging has standardised values already; the features added here are the ones only
    linking needs (pinyin, ID core and head, birth-year window, city of the hukou).
    """
    df = mentions.reindex(columns=list(PERSON_COLUMNS)).copy()
    df = df.sort_values(["source", "source_key"], kind="stable").reset_index(drop=True)
    df.insert(0, "unique_id", range(len(df)))
    for col in ("source", "source_key", "full_name", "id_number", "id_number_raw",
                "cert_number", "gender", "phone", "hukou_region_code"):
        df[col] = _text(df[col])
    df["full_name"] = [normalise_name(v) for v in df["full_name"].tolist()]
    df["cert_number"] = [normalise_cert(v) for v in df["cert_number"].tolist()]
    raw_ids = _objects(df["id_number_raw"].where(df["id_number_raw"].notna(), df["id_number"]))
    certs = _objects(df["cert_number"])
    id_keys = [_person_id_key(i, r, c)
               for i, r, c in zip(_objects(df["id_number"]), raw_ids, certs, strict=True)]
    df["id_key"] = id_keys
    cores, heads = [], []
    for key, raw, cert in zip(id_keys, raw_ids, certs, strict=True):
        source = key or raw
        core = id_core17(source) or (cert[:17] if cert else None)
        cores.append(core)
        heads.append(core[:14] if core else id_head14(raw))
    df["id_core17"] = cores
    df["id_head14"] = heads
    df["name_pinyin"] = [name_pinyin(v) for v in df["full_name"].tolist()]
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
    df = mentions.reindex(columns=list(EMPLOYER_COLUMNS)).copy()
    df = df.sort_values(["source", "source_key"], kind="stable").reset_index(drop=True)
    df.insert(0, "unique_id", range(len(df)))
    for col in ("source", "source_key", "name", "uscc", "org_code", "region_code", "unit_type"):
        df[col] = _text(df[col])
    df["name"] = [normalise_employer_name(v) for v in df["name"].tolist()]
    raw_uscc = df["uscc"].tolist()
    df["uscc"] = [normalise_uscc(v) for v in raw_uscc]
    # An old 9-character code typed into the credit-code column is still an org code.
    given_org = [normalise_org_code(o) or normalise_org_code(u)
                 for o, u in zip(df["org_code"].tolist(), raw_uscc, strict=True)]
    df["org_code"] = [org_code_of_uscc(u) or g
                      for u, g in zip(df["uscc"].tolist(), given_org, strict=True)]
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
