"""Context functions: the signed-in user and department, and the record's id.

See :mod:`.` for the conventions every definition follows.
"""

from __future__ import annotations

import sqlalchemy as sa

from .. import types as T
from ..registry import (
    Function,
    register,
)

register(
    Function(
        "CURRENT_USER",
        "context",
        (),
        T.USER,
        "The signed-in user.",
        "owner = CURRENT_USER()",
        kind="context",
        py=lambda e, a, t: e.ctx.user_id,
        sql=lambda e, a, t: sa.literal(e.ctx.user_id, sa.Integer()),
    )
)
register(
    Function(
        "CURRENT_DEPARTMENT",
        "context",
        (),
        T.DEPARTMENT,
        "The signed-in user's department.",
        "owner.department = CURRENT_DEPARTMENT()",
        kind="context",
        py=lambda e, a, t: e.ctx.department_id,
        sql=lambda e, a, t: sa.literal(e.ctx.department_id, sa.Integer()),
    )
)
register(
    Function(
        "RECORD_ID",
        "context",
        (),
        T.NUMBER,
        "The id of the record.",
        'CONCAT("Q-", RECORD_ID())',
        kind="context",
        never_blank=True,
    )
)
