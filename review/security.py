"""Sessions, CSRF tokens, safe redirects, sign-in throttling and the security headers."""

import hashlib
import hmac
import logging
import secrets
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from warehouse.roles import CITY_SETTING, role_name

log = logging.getLogger(__name__)
# What the queue and case pages read first: planned and run once per pooled connection at start.
WARM_STATEMENTS = (
    "select api.visible_cities()",
    "select 1 from review.flag_queue limit 1",
    "select 1 from review.flag_queue_count limit 1",
    "select 1 from mart.anomaly_flag limit 1",
    "select 1 from core.person limit 1",
    "select 1 from core.employer limit 1",
    "select 1 from review.decision limit 1",
)

SESSION_COOKIE = "ql_session"
LOGIN_CSRF_COOKIE = "ql_login_csrf"
IDLE_MINUTES = 30
MAX_FAILURES = 5
FAILURE_WINDOW_MINUTES = 15
# Admins manage accounts and see no flag: a city code that no employer has.
NO_CITY = "0000"
HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; script-src 'self'; style-src 'self'; "
                                "img-src 'self' data:; font-src 'self'; object-src 'none'; "
                                "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


@dataclass(frozen=True)
class User:
    """The signed-in account of a request."""

    username: str
    display_name: str
    role: str
    city_code: str | None
    csrf_token: str
    session_hash: str

    @property
    def sees_clear(self) -> bool:
        """Auditors and supervisors see personal data in clear (of flags in their scope)."""
        return self.role in ("auditor", "supervisor")

    @property
    def works_flags(self) -> bool:
        """May record decisions, claim flags and write link overrides."""
        return self.role in ("auditor", "supervisor")


def token_hash(token: str) -> str:
    """What the server stores of a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """A random URL-safe token (256 bits)."""
    return secrets.token_urlsafe(32)


def same_token(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison; false when either is missing."""
    return bool(given and expected) and hmac.compare_digest(given.encode(), expected.encode())


def mention_token(secret: str, entity: str, source: str, source_key: str) -> str:
    """An opaque name of a mention for URLs (a key may be a certificate number, which must
    reach no URL or log): an HMAC under the session's own secret."""
    message = "\x1f".join((entity, source, source_key)).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:24]


def safe_next(target: str | None) -> str:
    """A local path to go to after sign-in: anything else (//host, scheme, backslashes) is /."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in target):
        return "/"
    return target


class Scope:
    """Database access as the console role, limited to the user's city by row-level security."""

    def __init__(self, engine: Engine, role_prefix: str = "") -> None:
        self.engine = engine
        self.console_role = role_name("console", role_prefix)

    @contextmanager
    def connect(self, user: User | None):
        """A transaction under ``SET LOCAL ROLE`` console and the city setting of the user.

        With no user (sign-in, session lookup) the scope is the province, for the tables of
        accounts and sessions only; admins get a city no employer has, so no flag is visible.
        """
        with self.engine.begin() as conn:
            self._enter(conn, user)
            yield conn

    @contextmanager
    def session(self, token: str | None, idle_minutes: int = IDLE_MINUTES):
        """One transaction for a whole request: (conn, user of the session or None).

        The session is looked up in the province scope (accounts and sessions have no city);
        the user's city is set before anything else runs, so every later statement of the
        request is scoped as under ``connect(user)``.
        """
        with self.engine.begin() as conn:
            self._enter(conn, None)
            user = load_user(conn, token, idle_minutes)
            if user is not None:
                conn.execute(sa.text("select set_config(:k, :v, true)"),
                             {"k": CITY_SETTING, "v": city_setting(user)})
            yield conn, user

    def warm(self) -> None:
        """Open the pool's connections and run the console's first statements on each.

        A new backend reads the catalogs of every table a page touches and compiles the
        policies' functions on first use (tens of milliseconds each): done at start, the
        first users after a restart do not pay it, request by request, under load.
        """
        size = getattr(self.engine.pool, "size", None)
        n = size() if callable(size) else 0
        conns = []
        try:
            for _ in range(n):
                conn = self.engine.connect()
                conns.append(conn)
                with conn.begin():
                    self._enter(conn, None)
                    for statement in WARM_STATEMENTS:
                        conn.execute(sa.text(statement)).fetchall()
        except sa.exc.DBAPIError as exc:
            # Only a warm-up: the requests themselves report what is wrong with the warehouse.
            log.info("console warm-up stopped: %s", type(exc).__name__)
        finally:
            for conn in conns:
                conn.close()

    def _enter(self, conn: Connection, user: User | None) -> None:
        # One round trip: set_config('role', …, true) is SET LOCAL ROLE (membership checked
        # the same way). JIT off: the RLS subplans inflate cost estimates past its threshold,
        # and compiling costs tens of milliseconds on queries that run in one.
        conn.execute(sa.text("select set_config('role', :r, true), set_config('jit', 'off', true), "
                             "set_config(:k, :v, true)"),
                     {"r": self.console_role, "k": CITY_SETTING, "v": city_setting(user)})


def city_setting(user: User | None) -> str:
    """The city GUC of a user: '' (province) without one, a city no employer has for admins."""
    return "" if user is None else (NO_CITY if user.role == "admin" else (user.city_code or ""))


def load_user(conn: Connection, token: str | None, idle_minutes: int = IDLE_MINUTES) -> User | None:
    """The user of a session token, when the session is open, recent and its account active."""
    if not token or len(token) > 128:
        return None
    h = token_hash(token)
    row = conn.execute(sa.text("""
        select a.username, a.display_name, a.role, a.city_code, s.csrf_token,
               s.last_seen_at < now() - interval '1 minute' as stale
        from review.session s join review.account a on a.username = s.username
        where s.session_hash = :h and s.ended_at is null and a.active
          and s.last_seen_at > now() - make_interval(mins => :idle)"""),
        {"h": h, "idle": idle_minutes}).first()
    if row is None:
        return None
    if row.stale:  # one write a minute per session keeps the idle clock
        conn.execute(sa.text("update review.session set last_seen_at = now() where session_hash = :h"),
                     {"h": h})
    return User(row.username, row.display_name, row.role, row.city_code, row.csrf_token, h)


def recent_failures(conn: Connection, username: str) -> int:
    """Failed sign-ins of a username in the throttling window."""
    return conn.execute(sa.text(
        "select count(*) from review.signin_attempt where username = :u and not ok "
        "and attempted_at > now() - make_interval(mins => :w)"),
        {"u": username, "w": FAILURE_WINDOW_MINUTES}).scalar()


def record_attempt(conn: Connection, username: str, addr: str | None, ok: bool) -> None:
    """Write one sign-in attempt."""
    conn.execute(sa.text(
        "insert into review.signin_attempt (username, client_addr, ok) values (:u, :a, :ok)"),
        {"u": username, "a": addr, "ok": ok})


def open_session(conn: Connection, username: str, addr: str | None) -> tuple[str, str]:
    """Start a session: (token for the cookie, CSRF token)."""
    token, csrf = new_token(), new_token()
    conn.execute(sa.text(
        "insert into review.session (session_hash, username, csrf_token, client_addr) "
        "values (:h, :u, :c, :a)"), {"h": token_hash(token), "u": username, "c": csrf, "a": addr})
    return token, csrf


def end_session(conn: Connection, session_hash: str) -> None:
    """Sign-out: the session ends on the server, whatever the browser keeps."""
    conn.execute(sa.text("update review.session set ended_at = now() where session_hash = :h"),
                 {"h": session_hash})
