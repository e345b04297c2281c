"""Employer identifiers (USCC, organisation code) and names (legal form, city, branch)."""

import re
from dataclasses import dataclass
from functools import cache, lru_cache

from quotalink.standardise._text import (
    BAD_VALUE,
    fold,
    read_table,
    strip_quote_marks,
    strip_spaces,
    to_simplified,
)
from quotalink.standardise.regions import city_names

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC = re.compile(f"^[{USCC_ALPHABET}]{{18}}$")
_ORG_CODE = re.compile(r"^[0-9A-Z]{8}[0-9X]$")
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_BRACKETS = str.maketrans({"【": "(", "】": ")", "[": "(", "]": ")", "〔": "(", "〕": ")",
                           "{": "(", "}": ")", "〈": "(", "〉": ")", "《": "(", "》": ")"})
_BRACKET_CONTENT = re.compile(r"\([^()]*\)")
# Free text's stray punctuation (after NFKC: ，→, ；→; ：→:) a name never begins or ends with.
_EDGE_PUNCTUATION = ",.;:、。!?'\"`~_-/\\|"
_LOWER_LATIN = re.compile("[a-z]+")


def _compact(raw: object) -> str | None:
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    text = fold(raw)
    if text is None:
        return None
    return strip_quote_marks(strip_spaces(text)).replace("-", "").upper() or None


def normalise_uscc(raw: object) -> str | None:
    """18 characters of the USCC alphabet, upper-case; the mod-31 check is NOT enforced."""
    try:
        text = _compact(raw)
        return text if text and _USCC.match(text) else None
    except BAD_VALUE:
        return None


def uscc_check_ok(code: object) -> bool:
    """True when the final character of a USCC matches its mod-31 check."""
    value = normalise_uscc(code)
    if value is None:
        return False
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(value[:17], _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31] == value[17]


def normalise_org_code(raw: object) -> str | None:
    """A 9-character organisation code, dash removed, upper-case; check not enforced."""
    try:
        text = _compact(raw)
        return text if text and _ORG_CODE.match(text) else None
    except BAD_VALUE:
        return None


def org_code_check_ok(code: object) -> bool:
    """True when the 9th character of an organisation code matches its mod-11 check."""
    value = normalise_org_code(code)
    if value is None:
        return False

    def char_value(c: str) -> int:
        return int(c) if c.isdigit() else ord(c) - ord("A") + 10

    total = sum(char_value(c) * w for c, w in zip(value[:8], _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    expected = "X" if check == 10 else "0" if check == 11 else str(check)
    return expected == value[8]


def org_code_of_uscc(uscc: object) -> str | None:
    """The organisation code inside a USCC (positions 9–17)."""
    value = normalise_uscc(uscc)
    return value[8:17] if value else None


def normalise_employer_name(raw: object) -> str | None:
    """NFKC, full-width → ASCII, brackets → (), no spaces, traditional → simplified, Latin
    letters in capitals (ＡＢＣ, abc and ABC are one name), no stray punctuation at either end."""
    try:
        text = fold(raw)
        if text is None:
            return None
        text = strip_spaces(text.translate(_BRACKETS)).strip(_EDGE_PUNCTUATION)
        if _LOWER_LATIN.search(text):
            text = _LOWER_LATIN.sub(lambda m: m.group().upper(), text)
        return to_simplified(text) or None
    except BAD_VALUE:
        return None


@dataclass(frozen=True, slots=True)
class EmployerNameKey:
    """Comparison features of an employer name."""

    core: str | None
    city: str | None
    is_branch: bool
    branch_label: str | None


@cache
def _legal_forms() -> tuple[str, ...]:
    return tuple(sorted((r["form"] for r in read_table("legal_forms")), key=len, reverse=True))


@cache
def _branch_markers() -> tuple[tuple[str, str], ...]:
    """(marker, preceding word that makes it not a branch) — 街道办事处 is an organ."""
    return tuple((r["marker"], r["not_after"]) for r in read_table("branch_markers"))


@cache
def _prefixes() -> tuple[str, ...]:
    """Province and city names that may open an employer name, longest first."""
    names = {"山东省", "山东"}
    for _code, name, short in city_names():
        names.update({name, short})
    return tuple(sorted(names, key=len, reverse=True))


@cache
def _place_names() -> tuple[str, ...]:
    """County and city names (full and short, at least two characters), longest first."""
    from quotalink.standardise.regions import _places

    names = {p.name for p in _places()} | {p.short for p in _places() if len(p.short) >= 2}
    return tuple(sorted(names, key=len, reverse=True))


def _starts_with_place(text: str) -> bool:
    return any(text.startswith(name) for name in _place_names())


def _city_in(name: str) -> str | None:
    """Short name of the first city named anywhere in the name."""
    best: tuple[int, str] | None = None
    for _code, _full, short in city_names():
        pos = name.find(short)
        if pos >= 0 and (best is None or pos < best[0]):
            best = (pos, short)
    return best[1] if best else None


def _split_branch(name: str) -> tuple[str, str | None]:
    """(head-office part, branch label) of a name; label None when not a branch."""
    marker_pos = -1
    for marker, not_after in _branch_markers():
        pos = name.rfind(marker)
        if not_after and name[:pos].endswith(not_after):
            continue
        if pos > 0 and pos + len(marker) > marker_pos:
            marker_pos = pos + len(marker)
            found = (pos, marker)
    if marker_pos < 0:
        return name, None
    pos, marker = found
    head = name[:pos]
    cut = -1
    for form in _legal_forms():
        idx = head.rfind(form)
        if idx >= 0:
            cut = max(cut, idx + len(form))
    if cut <= 0:
        return head, name[pos:]
    return name[:cut], name[cut:]


def employer_name_key(name: object) -> EmployerNameKey:
    """Core trade name, city named, branch marker and label of an employer name."""
    # An employer's name repeats across its mentions and years: each text is read once.
    return _name_key_of_text(name) if isinstance(name, str) else _name_key(name)


@lru_cache(maxsize=200_000)
def _name_key_of_text(name: str) -> EmployerNameKey:
    return _name_key(name)


def _name_key(name: object) -> EmployerNameKey:
    try:
        text = normalise_employer_name(name)
        if text is None:
            return EmployerNameKey(None, None, False, None)
        # No registered name starts with 市 or 省: it is the tail of a dropped '济南市'.
        if text[:1] in ("市", "省") and len(text) > 3:
            text = text[1:]
        city = _city_in(text)
        head, label = _split_branch(text)
        core = _BRACKET_CONTENT.sub("", head)
        for prefix in _prefixes():
            if core.startswith(prefix) and len(core) > len(prefix):
                core = core[len(prefix):]
                break
        # A city after the province (山东济南…) is a second prefix.
        for prefix in _prefixes():
            if core.startswith(prefix) and len(core) > len(prefix):
                core = core[len(prefix):]
                break
        # '济南市兖州区…' typed without its city leaves a stray '市' before the county name.
        if core[:1] in ("市", "省") and _starts_with_place(core[1:]):
            core = core[1:]
        changed = True
        while changed:
            changed = False
            for form in _legal_forms():
                if core.endswith(form) and len(core) > len(form):
                    core = core[: -len(form)]
                    changed = True
                    break
        return EmployerNameKey(core or None, city, label is not None, label)
    except BAD_VALUE:
        return EmployerNameKey(None, None, False, None)


def legal_form(name: object) -> str | None:
    """The legal form an employer name ends with ('有限责任公司'), branch part ignored."""
    return _legal_form_of_text(name) if isinstance(name, str) else _legal_form(name)


@lru_cache(maxsize=200_000)
def _legal_form_of_text(name: str) -> str | None:
    return _legal_form(name)


def _legal_form(name: object) -> str | None:
    try:
        text = normalise_employer_name(name)
        if text is None:
            return None
        head, _label = _split_branch(text)
        for form in _legal_forms():  # longest first: 股份有限公司 before 有限公司
            if head.endswith(form) and len(head) > len(form):
                return form
        return None
    except BAD_VALUE:
        return None
