"""The payment state machine: every change of ``payments.state`` is made here.

Each function runs inside the caller's transaction, moves payments set-wise (one statement
for a whole chunk, batch or statement, never a loop per row) and only those in a state the
move may start from (:mod:`.moves`). The database refuses any move not listed in
``payment_state_edges`` and records every move in ``payment_transitions`` with the actor and
reason of :func:`act_as`; the ledger's ``UNIQUE(payment_id, kind)`` makes postings replay-safe.

States::

    created ─► approved ─► sending ─► succeeded ─► reconciled ─► reversed
       │  ▲        ▲          │  │         └────► reversed / manual_review
       ▼  │        │          │  └─► failed ─► manual_review
      held ┘       └──────────┴─► unknown ─► succeeded | failed | approved (provider: not found) | manual_review
       └─► returned (window ended, death)       manual_review ─► reconciled (a later statement matches)

Modules: :mod:`.moves` (states, allowed edges, the named moves), :mod:`.holding` (release,
holds, cancellation), :mod:`.sending` (claims and expired leases), :mod:`.outcomes` (paid,
failed, unknown, resend, give up), :mod:`.reconciling` (what a statement says).
"""

from payments.disbursement.machine.holding import (
    cancel_created,
    expire_holds,
    hold_deceased,
    release_holds,
    resolve_released,
)
from payments.disbursement.machine.moves import EDGES, MOVES, STATES, Move
from payments.disbursement.machine.outcomes import (
    act_as,
    give_up,
    mark_failed,
    mark_failed_ids,
    mark_succeeded,
    mark_succeeded_ids,
    mark_unknown,
    requeue,
)
from payments.disbursement.machine.reconciling import reconcile, reconcile_reviewed, reverse, review
from payments.disbursement.machine.sending import claim, expire_leases, hold_deceased_at_claim

__all__ = [
    "EDGES",
    "MOVES",
    "STATES",
    "Move",
    "act_as",
    "cancel_created",
    "claim",
    "expire_holds",
    "expire_leases",
    "give_up",
    "hold_deceased",
    "hold_deceased_at_claim",
    "mark_failed",
    "mark_failed_ids",
    "mark_succeeded",
    "mark_succeeded_ids",
    "mark_unknown",
    "reconcile",
    "reconcile_reviewed",
    "release_holds",
    "requeue",
    "resolve_released",
    "reverse",
    "review",
]
