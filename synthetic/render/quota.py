"""quota: the API's items as JSON Lines (`declarations.jsonl`, `declared-employees.jsonl`)."""

import json

from synthetic import noise as nz
from synthetic.render.base import Renderer


def _ts(value) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S")


class QuotaRenderer(Renderer):
    """Every version of every declaration, and its employees with each version."""

    source = "quota"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.decl_fh = (self.dir / "declarations.jsonl").open("w", encoding="utf-8", newline="\n")
        self.emp_fh = (self.dir / "declared-employees.jsonl").open("w", encoding="utf-8",
                                                                   newline="\n")
        self.n_decl = 0
        self.n_emp = 0

    def _uscc(self, emp, rng) -> tuple[str | None, str | None]:
        if emp.legacy:
            code = emp.org_code
            return None, code if rng.random() < 0.5 else f"{code[:8]}-{code[8]}"
        if rng.random() < self.noise.uscc_lower_or_spaced:
            u = emp.uscc
            return (u.lower() if rng.random() < 0.5 else f"{u[:6]} {u[6:12]} {u[12:]}"), None
        return emp.uscc, None

    def write(self, chunk, decls, truth) -> None:
        rng = self.rng(chunk)
        n = self.noise
        hx = self.harsh(chunk)
        for decl in decls:
            emp = decl.employer
            uscc, org_code = self._uscc(emp, rng)
            if emp.code_change_year and decl.year < emp.code_change_year:
                uscc, org_code = None, emp.org_code  # declared before the credit code existed
            name = decl.versions[0].unit_name
            if rng.random() < n.company_variant:
                name = nz.company_variant(name, emp.city_short, rng)
            if self.scn.hard and emp.kind in ("organ", "public_institution"):
                if rng.random() < self.scn.organ_code_missing:
                    # An organ's clerk gives the old organisation code, not the credit code.
                    uscc, org_code = None, f"{emp.org_code[:8]}-{emp.org_code[8]}"
                if rng.random() < 0.3:
                    name = nz.clerk_name(name, emp.city_short, emp.name[:3], rng)
            if hx:
                name, uscc = hx.employer(name, emp.city_short), hx.uscc(uscc)
            typed = {}
            for rec in decl.records:
                p = rec.spell.person
                id_number, _kind = nz.typed_id(p.id18, rng, p_wrong=n.id_wrong_digit,
                                               p_swap=n.id_transposed, p_15=n.id_15,
                                               p_full=0.0)
                cert = None if rng.random() < n.cert_missing else rec.cert_typed
                name_typed = nz.name_variant(p.name, rng, n.name_traditional, n.name_homophone,
                                             n.name_space)
                if hx:
                    name_typed, id_number = hx.name(name_typed), hx.id_number(id_number, may_drop=False)
                    cert = hx.cert(cert)
                typed[rec.record_id] = (name_typed, id_number, cert)
            for version in decl.versions:
                item = {
                    "declaration_id": decl.decl_id, "declaration_year": decl.year,
                    "unit_name": name, "uscc": uscc, "org_code": org_code,
                    "unit_region_code": emp.region, "unit_type": emp.quota_unit_type,
                    "total_staff": version.total_staff, "avg_annual_wage": version.avg_wage,
                    "disabled_declared": version.disabled_declared, "status": version.status,
                    "submitted_at": _ts(version.submitted_at),
                    "updated_at": _ts(version.updated_at),
                }
                self.decl_fh.write(json.dumps(item, ensure_ascii=False) + "\n")
                self.n_decl += 1
                for rec in decl.records:
                    name_typed, id_number, cert = typed[rec.record_id]
                    self.emp_fh.write(json.dumps({
                        "employee_record_id": rec.record_id,
                        "declaration_id": decl.decl_id,
                        "name": name_typed, "id_number": id_number, "cert_number": cert,
                        "disability_category": rec.category, "disability_level": rec.level,
                        "contract_start": rec.start.isoformat(),
                        "contract_end": rec.end.isoformat() if rec.end else None,
                        "monthly_wage": float(rec.wage), "si_months": rec.si_months,
                        "position": rec.spell.position, "employment_type": rec.spell.emp_type,
                        "updated_at": _ts(version.updated_at),
                    }, ensure_ascii=False) + "\n")
                    self.n_emp += 1
            truth.employer(self.source, decl.decl_id, emp.eid)
            for rec in decl.records:
                truth.person(self.source, rec.record_id, rec.spell.person.pid)

    def close(self) -> dict[str, int]:
        self.decl_fh.close()
        self.emp_fh.close()
        return {"declarations.jsonl": self.n_decl, "declared-employees.jsonl": self.n_emp}
