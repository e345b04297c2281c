"""The auditors' console: FastAPI pages (Jinja2) and a JSON API, scoped by role and city in SQL."""

import datetime as dt
import io
import json
import logging
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import jinja2
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from entity_resolution.explain import cluster_edges
from entity_resolution.overrides import pending_overrides, record_override, split_mention
from quotalink.privacy import mask_name, mask_text
from quotalink.xlsx import neutralise
from review import data, security
from review.accounts import verify_password
from review.i18n import LANGS, RULES, translator
from review.security import User
from review.waterfall import waterfall_svg
from warehouse.roles import city_codes

log = logging.getLogger("review")
HERE = Path(__file__).resolve().parent


class Problem(Exception):
    """An HTTP error rendered as a page or as JSON, in the user's language."""

    def __init__(self, status: int, key: str) -> None:
        super().__init__(key)
        self.status, self.key = status, key


class _Templates(jinja2.Environment):
    """Jinja2 reading a dict's keys first: rows are dicts, and the default (attribute, then
    key) raises and catches an AttributeError for every cell of a 50-row page."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


def _int(value: str | None, lo: int = 1, hi: int = 10**6) -> int | None:
    """A bounded integer from a query parameter (anything else: None)."""
    if value is None or not value.strip().lstrip("-").isdigit() or len(value) > 9:
        return None
    return min(max(int(value), lo), hi)


def create_app(engine: Engine, role_prefix: str = "", idle_minutes: int = security.IDLE_MINUTES,
               queue_check_seconds: float = 10.0) -> FastAPI:
    """The console on a warehouse engine (the engine's login must be a member of the console role).

    Every ``queue_check_seconds`` a request first asks whether the flags changed since the
    queue was built, and rebuilds it if so (one count over the flags).
    """
    app = FastAPI(title="QuotaLink console API", docs_url=None, redoc_url=None, openapi_url=None)
    templates = Jinja2Templates(env=_Templates(loader=jinja2.FileSystemLoader(str(HERE / "templates")),
                                               autoescape=jinja2.select_autoescape(), auto_reload=False))
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    scope = security.Scope(engine, role_prefix)
    threading.Thread(target=scope.warm, name="console-warm-up", daemon=True).start()
    cities = city_codes()
    checked = {"at": -1e9}
    counts_cache = data.CountCache()

    def fresh(conn) -> None:
        if time.monotonic() - checked["at"] >= queue_check_seconds:
            if data.refresh_queue(conn):
                counts_cache.clear()
            checked["at"] = time.monotonic()

    # ------------------------------------------------------------------ plumbing
    @app.middleware("http")
    async def headers(request: Request, call_next):
        response = await call_next(request)
        for k, v in security.HEADERS.items():
            response.headers.setdefault(k, v)
        if request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "public, max-age=3600"
        if request.url.scheme == "https":
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        return response

    def lang_of(request: Request) -> str:
        lang = request.query_params.get("lang") or request.cookies.get("ql_lang") or "zh"
        return lang if lang in LANGS else "zh"

    def wants_json(request: Request) -> bool:
        return request.url.path.startswith("/api/")

    @app.exception_handler(Problem)
    async def problem(request: Request, exc: Problem):
        t = translator(lang_of(request))
        if wants_json(request):
            return JSONResponse({"error": exc.key, "message": t(exc.key)}, status_code=exc.status)
        return templates.TemplateResponse(request, "error.html", {
            "t": t, "lang": lang_of(request), "user": None, "message": t(exc.key), "status": exc.status},
            status_code=exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        key = {404: "not_found", 403: "forbidden", 401: "signin"}.get(exc.status_code, "error")
        return await problem(request, Problem(exc.status_code, key))

    def client(request: Request) -> str | None:
        return request.client.host if request.client else None

    def user_of(request: Request) -> User | None:
        with scope.connect(None) as conn:
            return security.load_user(conn, request.cookies.get(security.SESSION_COOKIE), idle_minutes)

    def require(request: Request, roles: tuple[str, ...] | None = None) -> User:
        user = user_of(request)
        if user is None:
            raise Problem(401, "signin")
        if roles and user.role not in roles:
            raise Problem(403, "forbidden")
        return user

    def page_user(request: Request, roles: tuple[str, ...] | None = None) -> User | RedirectResponse:
        user = user_of(request)
        if user is None:
            from urllib.parse import urlencode

            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse("/login?" + urlencode({"next": security.safe_next(target)}), 303)
        if roles and user.role not in roles:
            raise Problem(403, "forbidden")
        return user

    @contextmanager
    def page_scope(request: Request, roles: tuple[str, ...], page: bool = True):
        """(conn, user) in one transaction for the whole request (session lookup included);
        no session: a redirect to sign in (pages) or 401 (API) instead of the user."""
        with scope.session(request.cookies.get(security.SESSION_COOKIE), idle_minutes) as (conn, user):
            if user is None:
                if not page:
                    raise Problem(401, "signin")
                from urllib.parse import urlencode

                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                yield conn, RedirectResponse("/login?" + urlencode({"next": security.safe_next(target)}), 303)
                return
            if user.role not in roles:
                raise Problem(403, "forbidden")
            yield conn, user

    async def form_of(request: Request) -> dict[str, str]:
        form = await request.form()
        return {k: str(v) for k, v in form.items()}

    def check_csrf(user: User, given: str | None) -> None:
        if not security.same_token(given, user.csrf_token):
            raise Problem(403, "forbidden")

    def render(request: Request, name: str, user: User | None, **ctx: Any) -> HTMLResponse:
        lang = lang_of(request)
        response = templates.TemplateResponse(request, name, {
            "t": translator(lang), "lang": lang, "user": user, "rules_zh": RULES, **ctx})
        if request.query_params.get("lang") in LANGS:
            response.set_cookie("ql_lang", lang, httponly=True, samesite="strict",
                                secure=request.url.scheme == "https")
        return response

    # ------------------------------------------------------------------ sign-in
    def sign_in(conn, username: str, password: str, addr: str | None) -> str | None:
        """The session token, or None; raises 429 once throttled (logged either way)."""
        if security.recent_failures(conn, username) >= security.MAX_FAILURES:
            log.warning("sign-in throttled for %s from %s", mask_name(username), addr)
            raise Problem(429, "throttled")
        row = conn.exec_driver_sql(
            "select password_hash, active from review.account where username = %(u)s",
            {"u": username}).first()
        ok = verify_password(row.password_hash if row and row.active else None, password)
        security.record_attempt(conn, username, addr, ok)
        if not ok:
            log.warning("failed sign-in for %s from %s", mask_name(username), addr)
            return None
        token, _csrf = security.open_session(conn, username, addr)
        return token

    def set_session(response: Response, request: Request, token: str) -> None:
        response.set_cookie(security.SESSION_COOKIE, token, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https", path="/")

    @app.get("/login", response_class=HTMLResponse)
    def login_page(request: Request, next: str = "/"):
        pre = security.new_token()
        response = render(request, "login.html", None, next=security.safe_next(next), login_csrf=pre,
                          failed=False)
        response.set_cookie(security.LOGIN_CSRF_COOKIE, pre, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https")
        return response

    @app.post("/login")
    async def login(request: Request):
        form = await form_of(request)
        # Login CSRF: a cross-site form cannot read or set our pre-session cookie.
        if not security.same_token(form.get("csrf"), request.cookies.get(security.LOGIN_CSRF_COOKIE)):
            raise Problem(403, "forbidden")
        username = form.get("username", "").strip()[:200]
        with scope.connect(None) as conn:
            token = sign_in(conn, username, form.get("password", ""), client(request))
        if token is None:
            pre = security.new_token()
            response = render(request, "login.html", None, next=security.safe_next(form.get("next")),
                              login_csrf=pre, failed=True)
            response.status_code = 401
            response.set_cookie(security.LOGIN_CSRF_COOKIE, pre, httponly=True, samesite="strict",
                                secure=request.url.scheme == "https")
            return response
        response = RedirectResponse(security.safe_next(form.get("next")), status_code=303)
        set_session(response, request, token)
        response.delete_cookie(security.LOGIN_CSRF_COOKIE)
        return response

    @app.post("/logout")
    async def logout(request: Request):
        user = require(request)
        check_csrf(user, (await form_of(request)).get("csrf"))
        with scope.connect(None) as conn:
            security.end_session(conn, user.session_hash)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(security.SESSION_COOKIE)
        return response

    # ------------------------------------------------------------------ queue
    def filters_of(request: Request, user: User) -> data.Filters:
        qp = request.query_params
        status = qp.get("status", "open")
        active = qp.get("active", "true")
        city = qp.get("city") or None
        return data.Filters(
            rule=qp.get("rule") or None, year=_int(qp.get("year"), 1900, 2100),
            severity=qp.get("severity") if qp.get("severity") in ("high", "medium", "low") else None,
            status=status if status in data.STATUSES else None,
            city=city if city in cities else None, assignee=(qp.get("assignee") or None),
            active=None if active == "all" else active != "false",
            q=(qp.get("q") or "").strip()[:100] or None, person=qp.get("person") or None,
            scope_city=user.city_code)


    @app.get("/", response_class=HTMLResponse)
    def queue_page(request: Request):
        with page_scope(request, ("viewer", "auditor", "supervisor")) as (conn, user):
            if isinstance(user, RedirectResponse):
                return user
            f = filters_of(request, user)
            if f.q and data.ID_NUMBER.match(f.q):
                f.q = None  # an ID number is looked up only through POST /search
            page = _int(request.query_params.get("page")) or 1
            fresh(conn)
            rows, counts = data.queue(conn, f, page, user.sees_clear, cache=counts_cache)
            facets = data.facets(conn)
            log_list(conn, user, f, page, rows, client(request))
        total = counts.get(f.status, 0) if f.status else sum(counts.values())
        pages = max(1, -(-total // data.PAGE_SIZE))
        return render(request, "queue.html", user, rows=rows, counts=counts, total=total, page=page,
                      pages=pages, f=f, params=f.params(), facets=facets, cities=cities)

    @app.post("/search")
    async def search(request: Request):
        user = require(request, ("viewer", "auditor", "supervisor"))
        form = await form_of(request)
        check_csrf(user, form.get("csrf"))
        q = form.get("q", "").strip()[:100]
        if data.ID_NUMBER.match(q):
            with scope.connect(user) as conn:
                ids = data.persons_with_id(conn, q)
            # The ID never reaches a URL or a log: the queue is filtered by golden person.
            return RedirectResponse(f"/?status=&active=all&person={ids[0] if ids else 'none'}", 303)
        from urllib.parse import urlencode

        return RedirectResponse("/?" + urlencode({"q": q, "status": "", "active": "all"}), 303)

    # ------------------------------------------------------------------ case
    def case(conn, user: User, flag_id: str, addr: str | None) -> dict:
        f = data.flag(conn, flag_id, user.sees_clear)
        if f is None:
            raise Problem(404, "not_found")
        ev = f["evidence"] or {}
        wanted = [(m["source"], m["source_key"]) for m in ev.get("mentions", [])
                  if m.get("entity", "person") == "person"]
        c = {
            "flag": f, "person": data.person(conn, f["person_id"], user.sees_clear),
            "employer": data.employer(conn, f["employer_id"]),
            "mentions": data.person_mentions(conn, f["person_id"], wanted if user.sees_clear else [],
                                             user.sees_clear),
            "employer_mentions": data.employer_mentions(conn, f["employer_id"]),
            "others": data.other_flags(conn, f), "decisions": data.decisions(conn, f, user.sees_clear),
            "sources": data.attr_sources(conn, f["person_id"], f["employer_id"], user.sees_clear),
        }
        c["edges"], c["pending"] = explanations(conn, f, c["mentions"])
        # Each mention links to its raw row by an opaque name (keys may be certificate numbers).
        for entity, items in (("person", c["mentions"]), ("employer", c["employer_mentions"]),
                              ("person", c["sources"]["person"].values()),
                              ("employer", c["sources"]["employer"].values())):
            for m in items:
                key = m.get("raw_key") or m["source_key"]
                m["raw_link"] = (f"/flags/{f['flag_id']}/raw/{m['source']}/"
                                 f"{security.mention_token(user.csrf_token, entity, m['source'], key)}")
        return c

    def log_list(conn, user: User, f: data.Filters, page: int, rows: list[dict], addr: str | None) -> None:
        # A queue page shows names in clear to auditors: a view of personal data too. The
        # search term may be a name: the log says a search was made, not what.
        if user.sees_clear and rows:
            params = {k: ("***" if k == "q" else v) for k, v in f.params().items()}
            data.log_access(conn, user.username, addr, "view_queue", detail=json.dumps(
                {"page": page, "rows": len(rows), **params}, ensure_ascii=False))

    def log_view(conn, user: User, c: dict, addr: str | None) -> None:
        # Last statement of the transaction: the chain's head stays locked only to the commit.
        if user.sees_clear:
            f = c["flag"]
            data.log_access(conn, user.username, addr, "view_flag", f["flag_id"], f["person_id"],
                            f["employer_id"])

    def explanations(conn, f: dict, mentions: list[dict]) -> tuple[list, list]:
        """Match edges of the golden person (with their SVG) and overrides awaiting a run."""
        edges = []
        for entity, golden in (("person", f["person_id"]), ("employer", f["employer_id"])):
            if golden:
                edges += [{"edge": e, "svg": waterfall_svg(e)} for e in cluster_edges(conn, entity, golden)]
        keys = [(m["source"], m["raw_key"]) for m in mentions]
        return edges, pending_overrides(conn, "person", keys) if keys else []

    @app.get("/flags/{flag_id}", response_class=HTMLResponse)
    def case_page(request: Request, flag_id: str):
        with page_scope(request, ("viewer", "auditor", "supervisor")) as (conn, user):
            if isinstance(user, RedirectResponse):
                return user
            fresh(conn)
            c = case(conn, user, flag_id[:100], client(request))
            nxt = data.next_flag(conn, flag_id, user.city_code)
            log_view(conn, user, c, client(request))
        return render(request, "case.html", user, **c, reasons=data.reasons(), next_id=nxt,
                      sentence=sentence(c), facts=facts(c["flag"]))

    @app.get("/flags/{flag_id}/raw/{source}/{mention}", response_class=HTMLResponse)
    def raw_page(request: Request, flag_id: str, source: str, mention: str):
        """A mention's raw row exactly as delivered, for a flag in scope (else 404)."""
        user = page_user(request, ("viewer", "auditor", "supervisor"))
        if isinstance(user, RedirectResponse):
            return user
        with scope.connect(user) as conn:
            f = data.flag(conn, flag_id[:100], clear=False)
            if f is None:
                raise Problem(404, "not_found")
            found = next(((e, k) for e, k in data.flag_mention_keys(conn, f, source[:40])
                          if security.same_token(mention[:64], security.mention_token(
                              user.csrf_token, e, source, k))), None)
            row = found and data.raw_row(conn, f["flag_id"], found[0], source, found[1],
                                         user.sees_clear)
            if not row:
                raise Problem(404, "not_found")
            if user.sees_clear:
                data.log_access(conn, user.username, client(request), "view_raw", f["flag_id"],
                                f["person_id"] if found[0] == "person" else None, f["employer_id"],
                                detail=json.dumps({"source": source, "raw_table": row["raw_table"],
                                                   "delivery": row["delivery"],
                                                   "row_ref": mask_text(row["row_ref"] or "")},
                                                  ensure_ascii=False))
        return render(request, "raw.html", user, flag=f, source=source, entity=found[0], row=row,
                      columns=raw_columns(row))

    def decide(conn, user: User, flag_id: str, decision: str, reason: str, note: str | None) -> dict:
        if not user.works_flags:
            raise Problem(403, "forbidden")
        if decision not in data.DECISIONS or reason not in data.reason_codes(decision):
            raise Problem(422, "error")
        f = data.flag(conn, flag_id, clear=False)
        if f is None:
            raise Problem(404, "not_found")
        stage = None
        if decision == "confirmed" and f["severity"] == "high":
            # Four eyes: a high flag is confirmed by a supervisor other than its proposer.
            if f["status"] == "proposed" and user.role == "supervisor":
                if f["last_reviewer"] == user.username:
                    raise Problem(409, "four_eyes")
            else:
                stage = "proposed"
        counts_cache.clear()
        did = data.record_decision(conn, flag_id, decision, reason, (note or "").strip()[:2000] or None,
                                   user.username, stage)
        return {"decision_id": did, "stage": stage, "status": "proposed" if stage else decision}

    @app.post("/flags/{flag_id}/decide")
    async def decide_form(request: Request, flag_id: str):
        user = require(request)
        form = await form_of(request)
        check_csrf(user, form.get("csrf"))
        with scope.connect(user) as conn:
            decide(conn, user, flag_id, form.get("decision", ""), form.get("reason", ""), form.get("note"))
            nxt = data.next_flag(conn, flag_id, user.city_code)
        return RedirectResponse(f"/flags/{nxt}" if nxt else "/", status_code=303)

    @app.post("/flags/{flag_id}/assign")
    async def assign_form(request: Request, flag_id: str):
        user = require(request, ("auditor", "supervisor"))
        form = await form_of(request)
        check_csrf(user, form.get("csrf"))
        target = form.get("assignee") or user.username
        if target != user.username and user.role != "supervisor":
            raise Problem(403, "forbidden")
        with scope.connect(user) as conn:
            if data.flag(conn, flag_id, clear=False) is None:
                raise Problem(404, "not_found")
            data.assign(conn, flag_id, target, user.username)
        return RedirectResponse(f"/flags/{flag_id}", status_code=303)

    @app.post("/flags/{flag_id}/link")
    async def link_form(request: Request, flag_id: str):
        """不是同一人 (cannot-link a mention from the rest) / 是同一人 (must-link two persons)."""
        user = require(request, ("auditor", "supervisor"))
        form = await form_of(request)
        check_csrf(user, form.get("csrf"))
        reason = form.get("reason", "").strip()[:500]
        if not reason:
            raise Problem(422, "error")
        with scope.connect(user) as conn:
            f = data.flag(conn, flag_id, clear=False)
            if f is None or not f["person_id"]:
                raise Problem(404, "not_found")
            xref = conn.exec_driver_sql(
                "select source, source_key from core.person_xref where person_id = %(p)s "
                "order by source, source_key", {"p": f["person_id"]}).all()
            if form.get("kind") == "cannot_link":
                src, key = form.get("source", ""), form.get("source_key", "")
                if (src, key) not in {tuple(r) for r in xref}:
                    raise Problem(404, "not_found")
                split_mention(conn, "person", src, key, user.username, reason)
            elif form.get("kind") == "must_link":
                other = conn.exec_driver_sql(
                    "select source, source_key from core.person_xref where person_id = %(p)s "
                    "order by source, source_key limit 1", {"p": form.get("other_person", "")}).first()
                if other is None or not xref:
                    raise Problem(404, "not_found")
                record_override(conn, "person", xref[0].source, xref[0].source_key, other.source,
                                other.source_key, "must_link", user.username, reason)
            else:
                raise Problem(422, "error")
        return RedirectResponse(f"/flags/{flag_id}#why", status_code=303)

    # ------------------------------------------------------------------ export
    QUEUE_HEADERS = [("flag_id", "线索编号"), ("rule", "规则"), ("rule_zh", "规则说明"), ("year", "年度"),
                     ("severity", "严重程度"), ("score", "评分"), ("status", "状态"), ("city_code", "地市"),
                     ("person_id", "人员编号"), ("person_name", "姓名"), ("employer_id", "单位编号"),
                     ("employer_name", "单位名称"), ("uscc", "统一社会信用代码"), ("levy_gap", "涉及保障金（元）"),
                     ("assignee", "承办人")]
    DECISION_HEADERS = [("decision_id", "序号"), ("flag_id", "线索编号"), ("rule", "规则"), ("year", "年度"),
                        ("decision", "处理意见"), ("reason", "理由代码"), ("stage", "阶段"),
                        ("reviewer", "处理人"), ("note", "备注"), ("decided_at", "时间")]

    def workbook(title: str, headers: list[tuple[str, str]], rows: list[dict]) -> bytes:
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.title = title
        ws.append([h for _, h in headers])
        for r in rows:
            ws.append([neutralise(_cell(r.get(k))) for k, _ in headers])
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue()

    XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    @app.get("/export", response_class=HTMLResponse)
    def export_page(request: Request):
        user = page_user(request, ("viewer", "auditor", "supervisor"))
        if isinstance(user, RedirectResponse):
            return user
        f = filters_of(request, user)
        return render(request, "export.html", user, params=f.params())

    @app.get("/export/queue.xlsx")
    def export_queue(request: Request):
        user = require(request, ("viewer", "auditor", "supervisor"))
        f = filters_of(request, user)
        page = _int(request.query_params.get("page"))
        with scope.connect(user) as conn:
            fresh(conn)
            rows, _ = data.queue(conn, f, page or 1, user.sees_clear,
                                 limit=data.PAGE_SIZE if page else data.EXPORT_LIMIT)
            if user.sees_clear:
                data.log_access(conn, user.username, client(request), "export_queue",
                                detail=json.dumps({"rows": len(rows), **f.params()}, ensure_ascii=False))
        for r in rows:
            r["rule_zh"] = RULES.get(r["rule"], ("",))[0]
        body = workbook("队列", QUEUE_HEADERS, rows)
        return Response(body, media_type=XLSX, headers={
            "Content-Disposition": "attachment; filename=queue.xlsx"})

    @app.get("/export/decisions.xlsx")
    def export_decisions(request: Request):
        user = require(request, ("viewer", "auditor", "supervisor"))
        with scope.connect(user) as conn:
            rows = data.decisions_export(conn, user.sees_clear)
            if user.sees_clear:
                data.log_access(conn, user.username, client(request), "export_decisions",
                                detail=json.dumps({"rows": len(rows)}))
        body = workbook("处理记录", DECISION_HEADERS, rows)
        return Response(body, media_type=XLSX, headers={
            "Content-Disposition": "attachment; filename=decisions.xlsx"})

    # ------------------------------------------------------------------ admin
    @app.get("/admin", response_class=HTMLResponse)
    def admin_page(request: Request):
        user = page_user(request, ("admin",))
        if isinstance(user, RedirectResponse):
            return user
        with scope.connect(None) as conn:
            accounts = conn.exec_driver_sql(
                "select username, display_name, role, city_code, active, created_at "
                "from review.account order by username").mappings().all()
        return render(request, "admin.html", user, accounts=accounts)

    @app.get("/openapi.json")
    def openapi(request: Request):
        require(request, ("admin",))
        return JSONResponse(app.openapi())

    @app.get("/docs", response_class=HTMLResponse)
    def docs(request: Request):
        user = page_user(request, ("admin",))
        if isinstance(user, RedirectResponse):
            return user
        # Swagger UI would load its script from a CDN: the endpoints are listed by our own page.
        spec = app.openapi()
        paths = [(m.upper(), p, (op.get("summary") or "")) for p, ops in spec["paths"].items()
                 for m, op in ops.items()]
        return render(request, "docs.html", user, paths=paths)

    # ------------------------------------------------------------------ JSON API
    @app.post("/api/login")
    async def api_login(request: Request):
        try:
            body = await request.json()
        except ValueError:
            raise Problem(422, "error") from None
        if not isinstance(body, dict):
            raise Problem(422, "error")
        username = str(body.get("username", "")).strip()[:200]
        with scope.connect(None) as conn:  # the failed attempt is committed before the 401
            token = sign_in(conn, username, str(body.get("password", "")), client(request))
        if token is None:
            raise Problem(401, "bad_login")
        with scope.connect(None) as conn:
            user = security.load_user(conn, token, idle_minutes)
        response = JSONResponse({"csrf_token": user.csrf_token, "username": user.username,
                                 "role": user.role, "city_code": user.city_code})
        set_session(response, request, token)
        return response

    @app.post("/api/logout")
    def api_logout(request: Request):
        user = require(request)
        check_csrf(user, request.headers.get("x-csrf-token"))
        with scope.connect(None) as conn:
            security.end_session(conn, user.session_hash)
        response = JSONResponse({"ok": True})
        response.delete_cookie(security.SESSION_COOKIE)
        return response

    @app.get("/api/flags")
    def api_flags(request: Request):
        with page_scope(request, ("viewer", "auditor", "supervisor"), page=False) as (conn, user):
            f = filters_of(request, user)
            if not request.query_params.get("status"):
                f.status = None
            page = _int(request.query_params.get("page")) or 1
            fresh(conn)
            rows, counts = data.queue(conn, f, page, user.sees_clear, cache=counts_cache)
            log_list(conn, user, f, page, rows, client(request))
        return JSONResponse(_jsonable({"page": page, "page_size": data.PAGE_SIZE, "counts": counts,
                                       "flags": rows}))

    @app.get("/api/flags/{flag_id}")
    def api_flag(request: Request, flag_id: str):
        with page_scope(request, ("viewer", "auditor", "supervisor"), page=False) as (conn, user):
            c = case(conn, user, flag_id[:100], client(request))
            log_view(conn, user, c, client(request))
        c.pop("edges", None)
        for m in [*c["mentions"], *c["sources"]["person"].values()]:
            if not user.sees_clear:
                m.pop("raw_key", None)
        return JSONResponse(_jsonable(c))

    @app.post("/api/flags/{flag_id}/decisions")
    async def api_decide(request: Request, flag_id: str):
        user = require(request)
        check_csrf(user, request.headers.get("x-csrf-token"))
        try:
            body = await request.json()
        except ValueError:
            raise Problem(422, "error") from None
        if not isinstance(body, dict):
            raise Problem(422, "error")
        with scope.connect(user) as conn:
            out = decide(conn, user, flag_id, str(body.get("decision", "")), str(body.get("reason", "")),
                         body.get("note") if isinstance(body.get("note"), str) else None)
        return JSONResponse(out, status_code=201)

    @app.get("/healthz")
    def healthz():
        with scope.connect(None) as conn:
            conn.exec_driver_sql("select 1")
        return {"ok": True}

    return app


def app_from_environment() -> FastAPI:
    """The console on the warehouse of the settings (uvicorn factory for several workers)."""
    from quotalink.settings import load_settings
    from warehouse.db import get_engine

    settings = load_settings()
    return create_app(console_engine(get_engine(settings)), role_prefix=settings.role_prefix)


# Sync endpoints run on AnyIO's pool of 40 threads. QueuePool keeps only pool_size idle
# connections and closes the rest on return: under 20 concurrent users the default (5) closes
# and reopens connections all the time, and each new backend re-reads the catalogs and
# recompiles the RLS functions (≈ 10–30 ms of server CPU).
POOL_SIZE, MAX_OVERFLOW = 20, 20


def console_engine(engine: Engine) -> Engine:
    """An engine on the same database with a pool sized for the console's threads."""
    import sqlalchemy as sa

    return sa.create_engine(engine.url, pool_size=POOL_SIZE, max_overflow=MAX_OVERFLOW,
                            pool_pre_ping=True)


def _cell(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    return value


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


def raw_columns(row: dict) -> list[tuple[str, Any]]:
    """Every column of a raw row in its contract's order (then any the contract lacks)."""
    from quotalink.contracts import RAW_TABLES

    content = row["content"] or {}
    spec = next((t for t in RAW_TABLES if t.table == row["raw_table"]), None)
    order = ["delivery", "row_ref", *(spec.extra_raw_columns if spec else ()),
             *(spec.columns if spec else ()), "extra", "loaded_at"]
    names = [c for c in order if c in content] + sorted(c for c in content if c not in order)
    return [(c, json.dumps(content[c], ensure_ascii=False) if isinstance(content[c], (dict, list))
             else content[c]) for c in names]


def sentence(c: dict) -> str:
    """The finding as one sentence (Chinese)."""
    f, p, e = c["flag"], c["person"], c["employer"] or {}
    who = (p or {}).get("full_name") or "（单位层面）"
    what = RULES.get(f["rule"], (f["rule"],))[0]
    return f"{f['year']}年度，{e.get('name') or f['employer_id']}申报的{who}：{what}。"


def facts(f: dict) -> list[tuple[str, Any]]:
    """The evidence's scalar facts and lists as (name, readable value)."""
    out = []
    for k, v in (f["evidence"] or {}).items():
        if k in ("mentions", "rule"):
            continue
        if isinstance(v, (dict, list)):
            v = json.dumps(v, ensure_ascii=False, default=str)
        out.append((k, v))
    return out
