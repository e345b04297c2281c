"""Masking functions of the api schema and the hash chain under concurrency and deletion."""

import threading

import pytest
import sqlalchemy as sa

from warehouse.audit import verify

pytestmark = pytest.mark.integration


def test_masks_keep_only_what_the_contract_shows(warehouse):
    with warehouse.connect() as conn:
        def one(sql: str, **kw):
            return conn.execute(sa.text(sql), kw).scalar()

        assert one("select api.mask_id_number('370102199001011234')") == "370102********1234"
        assert one("select api.mask_id_number('37010219900101123X')") == "370102********123X"
        assert one("select api.mask_name('张三')") == "张*"
        assert one("select api.mask_name('欧阳修')") == "欧**"
        assert one("select api.mask_phone('13812345678')") == "138****5678"
        assert one("select api.mask_phone('12345')") == "*****"
        assert one("select api.mask_id_number(null)") is None
        text = one("select api.mask_text('身份证370102199001011234，电话13812345678，工资3000')")
        assert text == "身份证370102********1234，电话138****5678，工资3000"
        masked = one("""select api.mask_jsonb('{"phones": ["13812345678"], "full_name": "王小明",
                        "birth_date": "1990-01-01", "months": 12, "wage": 12345678.5,
                        "facts": {"id_number": "370102199001011234"}}'::jsonb)""")
        assert masked == {"phones": ["138****5678"], "full_name": "王**", "birth_date": "1990",
                          "months": 12, "wage": 12345678.5,
                          "facts": {"id_number": "370102********1234"}}
        assert one("select api.city_of('371202')") == "3701"
        assert one("select api.city_of('370202')") == "3702"


def test_concurrent_inserts_keep_one_linear_chain(warehouse):
    def insert(who: str) -> None:
        for i in range(15):
            with warehouse.begin() as conn:
                conn.execute(sa.text("insert into review.decision (flag_id, decision, reviewer, note) "
                                     "values (:f, 'confirmed', :r, :n)"), {"f": f"F{i}", "r": who, "n": str(i)})

    threads = [threading.Thread(target=insert, args=(f"审计员{k}",)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    reports = {r.chain: r for r in verify(warehouse)}
    assert reports["review.decision"].ok and reports["review.decision"].rows == 45
    with warehouse.connect() as conn:
        prevs = conn.execute(sa.text("select prev_hash from review.decision")).scalars().all()
    assert len(set(prevs)) == 45  # no two rows hang off the same predecessor


def test_verify_names_a_row_removed_in_the_middle_or_at_the_end(warehouse):
    with warehouse.begin() as conn:
        for i in range(4):
            conn.execute(sa.text("insert into core.link_override (entity, source_a, key_a, source_b, key_b, "
                                 "decision, decided_by, reason) values ('person', 'quota', :a, 'hr', :b, "
                                 "'cannot_link', '审计员', '同名不同人')"), {"a": f"A{i}", "b": f"B{i}"})
    assert all(r.ok for r in verify(warehouse))

    def remove(override_id: int) -> None:
        with warehouse.begin() as conn:
            conn.execute(sa.text("alter table core.link_override disable trigger chain_refuse"))
            conn.execute(sa.text("delete from core.link_override where override_id = :i"), {"i": override_id})
            conn.execute(sa.text("alter table core.link_override enable trigger chain_refuse"))

    remove(4)
    report = {r.chain: r for r in verify(warehouse)}["core.link_override"]
    assert not report.ok and "recorded head is 4 rows" in report.problem and report.bad_key == 3
    remove(2)
    report = {r.chain: r for r in verify(warehouse)}["core.link_override"]
    assert report.bad_key == 3 and "prev_hash matches no row" in report.problem
    with warehouse.begin() as conn, pytest.raises(sa.exc.ProgrammingError, match="append-only"):
        conn.execute(sa.text("delete from core.link_override"))
