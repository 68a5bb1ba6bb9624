"""Field links: confirmed windows, arrivals and confirmations as outcomes, link form keys

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_BEFORE = (
    "done",
    "not_home",
    "refused",
    "promise_to_pay",
    "wrong_address",
    "reschedule",
    "cancelled",
    "paid",
)
_AFTER = (*_BEFORE, "arrived", "confirmed")


def _in(values: tuple[str, ...]) -> str:
    return f"outcome IN ({', '.join(repr(v) for v in values)})"


def _outcome_check(values: tuple[str, ...]) -> None:
    # SQLite cannot alter a CHECK constraint: batch mode copies the table with the new one.
    with op.batch_alter_table("outcomes", schema=None, recreate="always") as batch_op:
        batch_op.drop_constraint(op.f("ck_outcomes_outcome"), type_="check")
        batch_op.create_check_constraint("outcome", _in(values))


def upgrade() -> None:
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("confirmed_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("confirmed_start_s", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("confirmed_end_s", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("confirmed_agent", sa.String(length=200), nullable=True))
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("form_key", sa.String(length=64), nullable=True))
    _outcome_check(_AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM outcomes WHERE outcome IN ('arrived', 'confirmed')")
    _outcome_check(_BEFORE)
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.drop_column("form_key")
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.drop_column("confirmed_agent")
        batch_op.drop_column("confirmed_end_s")
        batch_op.drop_column("confirmed_start_s")
        batch_op.drop_column("confirmed_date")
