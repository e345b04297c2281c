"""FastAPI application of the review console (server-rendered Jinja2 pages + a JSON API)."""

import datetime as dt
import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.engine import Engine

from quotalink.privacy import mask_id, mask_name, mask_phone

DECISIONS = ("confirmed", "dismissed", "escalated")
PAGE_SIZE = 50
PERSONAL_KEYS = {
    "id_number": mask_id, "cert_number": mask_id, "full_name": mask_name, "name": mask_name,
    "phone": mask_phone,
}


def mask_evidence(value: Any) -> Any:
    """Mask personal fields anywhere inside a flag's evidence (for reviewers not signed in)."""
    if isinstance(value, dict):
        return {
            k: (PERSONAL_KEYS[k](v) if k in PERSONAL_KEYS and isinstance(v, str) else mask_evidence(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask_evidence(v) for v in value]
    return value


FLAG_LIST_SQL = """
select f.flag_id, f.rule, f.year, f.severity, f.score, f.active, f.first_seen_at, f.last_seen_at,
       f.person_id, f.employer_id, p.full_name, e.name as employer_name,
       d.decision, d.reviewer, d.decided_at
from mart.anomaly_flag f
left join core.person p on p.person_id = f.person_id
left join core.employer e on e.employer_id = f.employer_id
left join lateral (
    select decision, reviewer, decided_at from review.decision r
    where r.flag_id = f.flag_id order by decided_at desc, decision_id desc limit 1
) d on true
where (:rule is null or f.rule = :rule)
  and (:year is null or f.year = :year)
  and (:severity is null or f.severity = :severity)
  and (:active is null or f.active = :active)
  and (:status is null
       or (:status = 'open' and d.decision is null)
       or d.decision = :status)
order by f.active desc, case f.severity when 'high' then 0 when 'medium' then 1 else 2 end,
         f.score desc, f.flag_id
limit :limit offset :offset
"""


def create_app(engine: Engine) -> FastAPI:
    """The console on a warehouse engine."""
    app = FastAPI(title="QuotaLink review console")
    templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))

    def reviewer_of(request: Request) -> str | None:
        name = request.cookies.get("reviewer")
        return name.strip() if name and name.strip() else None

    def list_flags(rule, year, severity, status, active, page) -> list[dict]:
        params = {
            "rule": rule or None, "year": year, "severity": severity or None,
            "status": status or None, "active": active, "limit": PAGE_SIZE,
            "offset": (max(page, 1) - 1) * PAGE_SIZE,
        }
        stmt = sa.text(FLAG_LIST_SQL).bindparams(
            sa.bindparam("rule", type_=sa.Text), sa.bindparam("year", type_=sa.Integer),
            sa.bindparam("severity", type_=sa.Text), sa.bindparam("status", type_=sa.Text),
            sa.bindparam("active", type_=sa.Boolean),
        )
        with engine.connect() as conn:
            return [dict(r) for r in conn.execute(stmt, params).mappings()]

    def facets() -> dict:
        with engine.connect() as conn:
            rules = conn.execute(sa.text("select rule, count(*) from mart.anomaly_flag where active group by rule order by rule")).all()
            years = conn.execute(sa.text("select distinct year from mart.anomaly_flag order by year")).scalars().all()
        return {"rules": rules, "years": years}

    @app.get("/", response_class=HTMLResponse)
    def index(request: Request, rule: str | None = None, year: str | None = None,
              severity: str | None = None, status: str | None = "open", active: str | None = "true",
              page: int = 1):
        year_i = int(year) if year and year.isdigit() else None
        active_b = None if active in (None, "", "all") else active == "true"
        flags = list_flags(rule, year_i, severity, status if status != "all" else None, active_b, page)
        for f in flags:
            f["full_name"] = mask_name(f["full_name"])
        return templates.TemplateResponse(request, "index.html", {
            "flags": flags, "facets": facets(), "reviewer": reviewer_of(request),
            "filters": {"rule": rule or "", "year": year or "", "severity": severity or "",
                        "status": status or "all", "active": active or "all"},
            "page": page, "page_size": PAGE_SIZE,
        })

    def load_flag(flag_id: str) -> dict:
        with engine.connect() as conn:
            flag = conn.execute(sa.text(
                "select f.*, p.full_name, p.id_number, p.cert_number, p.phone, e.name as employer_name, "
                "e.uscc from mart.anomaly_flag f left join core.person p on p.person_id = f.person_id "
                "left join core.employer e on e.employer_id = f.employer_id where f.flag_id = :f"),
                {"f": flag_id}).mappings().first()
            if flag is None:
                raise HTTPException(404, f"no flag {flag_id}")
            # Decisions taken on the same finding before a merge of golden IDs renamed it.
            earlier = (flag["evidence"] or {}).get("previous_flag_ids") or []
            decisions = conn.execute(sa.text(
                "select decision_id, flag_id, decision, reviewer, note, decided_at from review.decision "
                "where flag_id = any(:ids) order by decided_at, decision_id"),
                {"ids": [flag_id, *earlier]}).mappings().all()
        return {"flag": dict(flag), "decisions": [dict(d) for d in decisions]}

    @app.get("/flags/{flag_id}", response_class=HTMLResponse)
    def flag_page(request: Request, flag_id: str):
        data = load_flag(flag_id)
        reviewer = reviewer_of(request)
        flag = data["flag"]
        evidence = flag["evidence"] if reviewer else mask_evidence(flag["evidence"])
        if not reviewer:
            for k in ("full_name", "id_number", "cert_number", "phone"):
                flag[k] = PERSONAL_KEYS[k](flag[k]) if flag.get(k) else flag.get(k)
        return templates.TemplateResponse(request, "flag.html", {
            "flag": flag, "decisions": data["decisions"], "reviewer": reviewer,
            "evidence_json": json.dumps(evidence, ensure_ascii=False, indent=2, default=str),
            "decision_kinds": DECISIONS,
        })

    @app.post("/flags/{flag_id}/decision")
    def decide(request: Request, flag_id: str, decision: str = Form(...), note: str = Form("")):
        reviewer = reviewer_of(request)
        if not reviewer:
            raise HTTPException(403, "sign in with your reviewer name first")
        if decision not in DECISIONS:
            raise HTTPException(422, f"decision must be one of {', '.join(DECISIONS)}")
        load_flag(flag_id)
        with engine.begin() as conn:
            conn.execute(sa.text(
                "insert into review.decision (flag_id, decision, reviewer, note, decided_at) "
                "values (:f, :d, :r, :n, :t)"),
                {"f": flag_id, "d": decision, "r": reviewer, "n": note.strip() or None,
                 "t": dt.datetime.now(dt.UTC)})
        return RedirectResponse(f"/flags/{flag_id}", status_code=303)

    @app.post("/signin")
    def signin(reviewer: str = Form(...), next: str = Form("/")):
        target = next if next.startswith("/") else "/"
        resp = RedirectResponse(target, status_code=303)
        resp.set_cookie("reviewer", reviewer.strip()[:64], httponly=True, samesite="strict")
        return resp

    @app.post("/signout")
    def signout():
        resp = RedirectResponse("/", status_code=303)
        resp.delete_cookie("reviewer")
        return resp

    @app.get("/api/flags")
    def api_flags(rule: str | None = None, year: int | None = None, severity: str | None = None,
                  status: str | None = None, active: bool | None = None, page: int = Query(1, ge=1)):
        flags = list_flags(rule, year, severity, status, active, page)
        for f in flags:
            f["full_name"] = mask_name(f["full_name"])
        return JSONResponse(json.loads(json.dumps(flags, default=str, ensure_ascii=False)))

    @app.get("/healthz")
    def healthz():
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        return {"ok": True}

    return app
