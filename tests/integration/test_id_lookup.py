"""A retired golden ID still resolves to the current one, through chains of merges."""

import sqlalchemy as sa


def test_retired_ids_resolve_through_chains(warehouse):
    with warehouse.begin() as conn:
        conn.execute(sa.text("insert into core.person (person_id) values ('P3'), ('P9')"))
        conn.execute(sa.text(
            "insert into core.person_id_history (retired_id, current_id, reason) values "
            "('P1', 'P2', 'merge'), ('P2', 'P3', 'merge')"))
        rows = dict(conn.execute(sa.text("select person_id, current_id from core.person_id_lookup")).all())
    assert rows == {"P1": "P3", "P2": "P3", "P3": "P3", "P9": "P9"}
