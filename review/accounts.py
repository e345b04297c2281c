"""Console accounts: Argon2id password hashes, creation, listing and disabling (operators only)."""

from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Engine

from warehouse.roles import city_codes

ROLES = ("viewer", "auditor", "supervisor", "admin")
_HASHER = PasswordHasher()  # argon2id with the library's (RFC 9106 low-memory) parameters
# Verified when the username is unknown, so that a wrong name costs as long as a wrong password.
_DUMMY_HASH = _HASHER.hash("quotalink-no-such-account")


@dataclass(frozen=True)
class Account:
    """One console account as the console sees it (never the hash)."""

    username: str
    display_name: str
    role: str
    city_code: str | None
    active: bool


def hash_password(password: str) -> str:
    """Argon2id hash of a password."""
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches; a missing hash still costs one verification."""
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def add_account(engine: Engine, username: str, role: str, password: str,
                city_code: str | None = None, display_name: str | None = None) -> Account:
    """Create an account; ValueError on a bad role, city, empty name or short password."""
    username = username.strip()
    if not username:
        raise ValueError("username must not be empty")
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if city_code is not None and city_code not in city_codes():
        raise ValueError(f"{city_code!r} is not a Shandong city code ({', '.join(city_codes())})")
    if len(password) < 10:
        raise ValueError("password must be at least 10 characters")
    with engine.begin() as conn:
        exists = conn.execute(sa.text("select 1 from review.account where username = :u"),
                              {"u": username}).first()
        if exists:
            raise ValueError(f"account {username!r} exists")
        conn.execute(sa.text(
            "insert into review.account (username, display_name, role, city_code, password_hash) "
            "values (:u, :d, :r, :c, :h)"),
            {"u": username, "d": display_name or username, "r": role, "c": city_code,
             "h": hash_password(password)})
    return Account(username, display_name or username, role, city_code, True)


def list_accounts(engine: Engine) -> list[Account]:
    """Every account, by username."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "select username, display_name, role, city_code, active from review.account "
            "order by username")).all()
    return [Account(*r) for r in rows]


def disable_account(engine: Engine, username: str) -> bool:
    """Disable an account and end its sessions; False when there is no such account."""
    with engine.begin() as conn:
        done = conn.execute(sa.text(
            "update review.account set active = false where username = :u"), {"u": username}).rowcount
        conn.execute(sa.text(
            "update review.session set ended_at = now() where username = :u and ended_at is null"),
            {"u": username})
    return bool(done)
