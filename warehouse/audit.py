"""The hash chains of decisions, link overrides and the access log: verify and checkpoint them."""

from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

GENESIS = "0" * 64
# chain (schema.table) → its key column, in the order verify reports them.
CHAINS = {"review.decision": "decision_id", "core.link_override": "override_id",
          "review.access_log": "access_id"}


@dataclass
class ChainReport:
    """Outcome of recomputing one chain."""

    chain: str
    rows: int
    head_hash: str
    problem: str | None = None
    bad_key: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every row matches and the chain ends at the recorded head."""
        return self.problem is None


def verify_chain(conn: Connection, chain: str) -> ChainReport:
    """Recompute every row_hash of one chain and follow the links from the first row."""
    key = CHAINS[chain]
    conn.execute(sa.text("set local timezone = 'UTC'"))  # timestamps render as on insert
    rows = conn.execute(sa.text(f"""
        select {key} as k, prev_hash, row_hash,
               ops.chain_hash(coalesce(prev_hash, ''), ops.chain_content(to_jsonb(t))) as computed
        from {chain} t order by {key}""")).all()
    head = conn.execute(sa.text("select length, head_hash from ops.chain_head where chain = :c"),
                        {"c": chain}).first()
    by_prev: dict[str, list] = defaultdict(list)
    for r in rows:
        by_prev[r.prev_hash].append(r)
    order, seen, current = [], set(), GENESIS
    while True:
        nxt = [r for r in by_prev.get(current, []) if r.k not in seen]
        if not nxt:
            break
        row = min(nxt, key=lambda r: r.k)
        order.append(row)
        seen.add(row.k)
        current = row.row_hash
    report = ChainReport(chain, len(rows), current)
    name = f"{chain} {key}="
    for row in order:
        if row.row_hash != row.computed:
            report.problem = (f"{name}{row.k}: content does not match its row_hash "
                              "(the row was changed after it was written)")
            report.bad_key = row.k
            return report
    stray = [r for r in rows if r.k not in seen]
    if stray:
        first = stray[0]
        if first.prev_hash is None or first.row_hash is None:
            report.problem = f"{name}{first.k}: written without a hash (the chain trigger was off)"
        else:
            report.problem = (f"{name}{first.k}: its prev_hash matches no row before it "
                              "(a row before it was changed or removed)")
        report.bad_key = first.k
        return report
    recorded_len, recorded_hash = (head.length, head.head_hash) if head else (0, GENESIS)
    if (recorded_len, recorded_hash) != (len(rows), current):
        last = order[-1].k if order else None
        report.problem = (f"{chain}: the chain ends at {key}={last} with {len(rows)} rows, but its "
                          f"recorded head is {recorded_len} rows ending {recorded_hash[:12]}… "
                          "(rows removed at the end, or the head was edited)")
        report.bad_key = last
    return report


def verify(engine: Engine) -> list[ChainReport]:
    """Verify every chain."""
    with engine.begin() as conn:
        return [verify_chain(conn, chain) for chain in CHAINS]


def checkpoint(engine: Engine, run_id: str | None = None) -> list[tuple[str, int, str, object]]:
    """Write each chain's head to ops.audit_checkpoint; (chain, rows, head hash, taken_at)."""
    with engine.begin() as conn:
        rows = conn.execute(sa.text("""
            insert into ops.audit_checkpoint (run_id, chain, length, head_hash)
            select :run, c.chain, coalesce(h.length, 0), coalesce(h.head_hash, :genesis)
            from unnest(cast(:chains as text[])) with ordinality as c(chain, i)
            left join ops.chain_head h on h.chain = c.chain
            order by c.i
            returning chain, length, head_hash, taken_at"""),
            {"run": run_id, "genesis": GENESIS, "chains": list(CHAINS)}).all()
    return [tuple(r) for r in rows]
