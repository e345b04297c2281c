"""Person and employer mentions: the one shape every source's mentions take in staging."""

from connectors.staging import Context, text
from quotalink.standardise import (
    id_from_cert,
    normalise_cert,
    normalise_employer_name,
    normalise_gender,
    normalise_id,
    normalise_name,
    normalise_phone,
    org_code_of_uscc,
)


def person_fields(ctx: Context, row: dict, *, name: str, id_col: str | None, cert_col: str | None,
                  gender_col: str | None = None, phone_col: str | None = None) -> dict:
    """The identity fields every person mention shares, standardised one way everywhere."""
    cert = normalise_cert(row.get(cert_col)) if cert_col else None
    raw_id = row.get(id_col) if id_col else None
    ident = normalise_id(raw_id)
    id_number, quality = ident.value, ident.quality
    delivered = id_col is not None and text(row, id_col) is not None
    if id_number is None and delivered:
        ctx.unparsed[id_col] += 1  # an ID with letters or the wrong length: never silently dropped
    if id_number is None and cert is not None:
        from_cert = id_from_cert(cert)
        if from_cert:
            id_number, quality = from_cert, "from_cert"
            ident = normalise_id(from_cert)
            if delivered:
                ctx.substituted[id_col] += 1
    gender = normalise_gender(row.get(gender_col)) if gender_col else None
    return {
        "full_name": normalise_name(row.get(name)),
        "name_raw": text(row, name),
        "id_number": id_number,
        "id_number_raw": text(row, id_col) if id_col else None,
        "id_quality": quality,
        "cert_number": cert,
        "gender": gender or ident.gender,
        "birth_date": ident.birth_date,
        "phone": ctx.parsed(row, phone_col, normalise_phone) if phone_col else None,
    }


def person_mention(ctx: Context, key: str | None, person: dict, **facts) -> tuple[str, dict]:
    """A staging.person_mention row: identity fields plus what the source says besides."""
    row = {
        "source": ctx.source, "source_key": key, **person,
        "birth_year_min": None, "birth_year_max": None, "hukou_region_code": None,
        "disability_category": None, "disability_level": None, "observed_on": None,
        "period": ctx.period,
    }
    row.update(facts)
    return "staging.person_mention", row


def employer_mention(ctx: Context, key: str | None, name_raw: str | None, *, uscc: str | None = None,
                     org_code: str | None = None, region_code: str | None = None,
                     unit_type: str | None = None, observed_on=None, period: str | None = None
                     ) -> tuple[str, dict]:
    """A staging.employer_mention row; the organisation code falls back to the USCC's."""
    return "staging.employer_mention", {
        "source": ctx.source, "source_key": key,
        "name": normalise_employer_name(name_raw), "name_raw": name_raw,
        "uscc": uscc, "org_code": org_code or org_code_of_uscc(uscc),
        "region_code": region_code, "unit_type": unit_type, "observed_on": observed_on,
        "period": ctx.period if period is None else period,
    }
