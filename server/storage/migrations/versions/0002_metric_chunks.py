"""Metrics in chunks: one row per run, metric and run of up to 4,096 points (float32 values,
steps stored only when not evenly spaced) instead of one row per point; runs get `warnings`.

The points of metric_points move into chunks (and back on downgrade), a page of points at a
time, so that a run of millions of steps never sits in memory whole. The encoding is
server.runs.series.Chunk's, written here with the standard library so that this migration does
not change when that module does.
Revision ID: 0002
May import: stdlib, alembic, sqlalchemy.
"""

import math
import sys
from array import array

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

PAGE = 4096  # points per chunk made from old rows
INT32 = (-(2**31), 2**31 - 1)
F32_MAX = 3.4028234663852886e38  # past it a float32 is inf: left out like other non-finite


def _points_table() -> sa.Table:
    return sa.table("metric_points", sa.column("id", sa.Integer), sa.column("run_id", sa.String),
                    sa.column("name", sa.String), sa.column("step", sa.Integer),
                    sa.column("value", sa.Float))


def _chunks_table() -> sa.Table:
    return sa.table("metric_chunks", sa.column("id", sa.Integer),
                    sa.column("run_id", sa.String), sa.column("name", sa.String),
                    sa.column("first_step", sa.Integer), sa.column("last_step", sa.Integer),
                    sa.column("count", sa.Integer), sa.column("values_f32", sa.LargeBinary),
                    sa.column("steps_int", sa.LargeBinary))


def _le(a: array) -> bytes:
    if sys.byteorder == "big":
        a.byteswap()
    return a.tobytes()


def _from_le(code: str, data: bytes) -> list[float] | list[int]:
    a = array(code)
    a.frombytes(data)
    if sys.byteorder == "big":
        a.byteswap()
    return a.tolist()


def encode(run_id: str, name: str, steps: list[int], values: list[float]) -> dict:
    first, last, n = steps[0], steps[-1], len(steps)
    stride = (last - first) // (n - 1) if n > 1 else 1
    even = n == 1 or (stride > 0 and all(s == first + i * stride for i, s in enumerate(steps)))
    packed = None
    if not even:
        wide = min(steps) < INT32[0] or max(steps) > INT32[1]
        packed = _le(array("q" if wide else "i", steps))
    return {"run_id": run_id, "name": name, "first_step": first, "last_step": last, "count": n,
            "values_f32": _le(array("f", values)), "steps_int": packed}


def decode(row: sa.Row) -> tuple[list[int], list[float]]:
    values = _from_le("f", row.values_f32)
    if row.steps_int is not None:
        code = "q" if len(row.steps_int) == 8 * row.count else "i"
        return _from_le(code, row.steps_int), values  # type: ignore[return-value]
    stride = (row.last_step - row.first_step) // (row.count - 1) if row.count > 1 else 1
    return [row.first_step + i * stride for i in range(row.count)], values  # type: ignore[return-value]


def _points_to_chunks(conn: sa.Connection) -> None:
    points, chunks = _points_table(), _chunks_table()
    series = conn.execute(sa.select(points.c.run_id, points.c.name).distinct()).all()
    for run_id, name in series:
        q = sa.select(points.c.step, points.c.value, points.c.id).where(
            points.c.run_id == run_id, points.c.name == name)
        after: tuple[int, int] | None = None  # (step, id) of the last point moved
        while True:
            page = conn.execute(
                (q if after is None else q.where(sa.tuple_(points.c.step, points.c.id) > after))
                .order_by(points.c.step, points.c.id).limit(PAGE)).all()
            if not page:
                break
            after = (page[-1].step, page[-1].id)
            kept = [(p.step, p.value) for p in page if p.value is not None
                    and math.isfinite(p.value) and abs(p.value) <= F32_MAX]
            if kept:
                conn.execute(chunks.insert(), [encode(run_id, name, [s for s, _ in kept],
                                                      [v for _, v in kept])])


def _chunks_to_points(conn: sa.Connection) -> None:
    points, chunks = _points_table(), _chunks_table()
    last_id = 0
    while True:
        rows = conn.execute(sa.select(chunks).where(chunks.c.id > last_id)
                            .order_by(chunks.c.id).limit(64)).all()
        if not rows:
            break
        last_id = rows[-1].id
        for row in rows:
            steps, values = decode(row)
            conn.execute(points.insert(), [
                {"run_id": row.run_id, "name": row.name, "step": s, "value": v}
                for s, v in zip(steps, values, strict=True)])


def upgrade() -> None:
    op.add_column("runs", sa.Column("warnings", sa.JSON))
    op.create_table(
        "metric_chunks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("first_step", sa.Integer, nullable=False),
        sa.Column("last_step", sa.Integer, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("values_f32", sa.LargeBinary, nullable=False),
        sa.Column("steps_int", sa.LargeBinary),
    )
    op.create_index("ix_metric_chunks_run_name_first", "metric_chunks",
                    ["run_id", "name", "first_step"])
    _points_to_chunks(op.get_bind())
    op.drop_index("ix_metric_points_run_name_step", table_name="metric_points")
    op.drop_table("metric_points")


def downgrade() -> None:
    op.create_table(
        "metric_points",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("name", sa.String(200), nullable=False),  # 64 in 0001; chunks allow 200
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("value", sa.Float, nullable=False),
    )
    op.create_index("ix_metric_points_run_name_step", "metric_points", ["run_id", "name", "step"])
    _chunks_to_points(op.get_bind())
    op.drop_index("ix_metric_chunks_run_name_first", table_name="metric_chunks")
    op.drop_table("metric_chunks")
    op.execute("ALTER TABLE runs DROP COLUMN warnings")  # SQLite >= 3.35 and PostgreSQL
