"""The payment states and the moves between them: every change of ``payments.state`` is one
of the moves named here, made by a statement of this package.

A move names the states it may start from and the states it may end in; each of those
edges must be an allowed transition (:data:`EDGES`, the same set as the database's
``payment_state_edges``, whose statement trigger refuses any other). A statement moves its
rows set-wise and only from the move's starting states (:meth:`Move.guard`), so that an
outcome reported twice changes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EDGES", "MOVES", "STATES", "Move"]

STATES = frozenset(
    {
        "created", "held", "approved", "sending", "succeeded", "failed", "unknown",
        "reconciled", "reversed", "manual_review", "returned", "cancelled",
    }
)  # fmt: skip

#: Every allowed (from, to). ``tests/disbursement/test_state_machine.py`` keeps it equal to
#: ``payment_state_edges``.
EDGES = frozenset(
    {
        ("created", "approved"), ("created", "held"), ("created", "cancelled"),
        ("held", "approved"), ("held", "held"), ("held", "returned"),
        ("approved", "sending"), ("approved", "held"),
        ("sending", "succeeded"), ("sending", "failed"), ("sending", "unknown"), ("sending", "approved"),
        ("unknown", "succeeded"), ("unknown", "failed"), ("unknown", "approved"), ("unknown", "manual_review"),
        ("succeeded", "reconciled"), ("succeeded", "reversed"), ("succeeded", "manual_review"),
        ("reconciled", "reversed"), ("reconciled", "manual_review"),
        ("failed", "manual_review"),
        ("manual_review", "reconciled"),
    }
)  # fmt: skip


@dataclass(frozen=True)
class Move:
    name: str
    sources: tuple[str, ...]
    targets: tuple[str, ...]

    def __post_init__(self) -> None:
        bad = [(a, b) for a in self.sources for b in self.targets if (a, b) not in EDGES]
        if bad:
            raise ValueError(f"move {self.name}: {bad} not allowed")

    @property
    def edges(self) -> frozenset[tuple[str, str]]:
        return frozenset((a, b) for a in self.sources for b in self.targets)

    def guard(self, column: str = "state") -> str:
        """SQL condition: the row is in a state this move may start from."""
        return f"{column} IN ({', '.join(repr(s) for s in self.sources)})"


#: A released batch's payment finds its wallet (approved) or waits (held).
RESOLVE = Move("resolve", ("created",), ("approved", "held"))
#: The batch is cancelled before release.
CANCEL = Move("cancel", ("created",), ("cancelled",))
#: A worker claims a payment to send it; a person the registry now lists as deceased is held.
CLAIM = Move("claim", ("approved",), ("sending",))
HOLD_AT_CLAIM = Move("hold_at_claim", ("approved",), ("held",))
#: The provider paid, or definitely did not.
SUCCEED = Move("succeed", ("sending", "unknown"), ("succeeded",))
FAIL = Move("fail", ("sending", "unknown"), ("failed",))
#: The outcome of a send is unknown (time-out, 5xx, a worker's lease ran out): ask the provider.
LOSE_TRACK = Move("lose_track", ("sending",), ("unknown",))
#: The provider never got it (429, no connection, "not found" after the grace): send again.
REQUEUE = Move("requeue", ("sending", "unknown"), ("approved",))
#: Status queries never settled it: a person decides.
GIVE_UP = Move("give_up", ("unknown",), ("manual_review",))
#: A held payment's citizen can now be paid (or still waits, for a new reason).
RELEASE_HOLD = Move("release_hold", ("held",), ("approved", "held"))
#: The hold window ended: the money goes back to the programme.
EXPIRE_HOLD = Move("expire_hold", ("held",), ("returned",))
#: The registry reports a death: the hold becomes one that has ended.
HOLD_DECEASED = Move("hold_deceased", ("held",), ("held",))
#: The provider's statement agrees; one under review that it matches is reconciled too.
RECONCILE = Move("reconcile", ("succeeded",), ("reconciled",))
RECONCILE_REVIEWED = Move("reconcile_reviewed", ("manual_review",), ("reconciled",))
#: The statement disagrees (amount, paid though failed here, missing): a person decides.
REVIEW = Move("review", ("succeeded", "reconciled", "failed", "unknown"), ("manual_review",))
#: The provider took the payout back.
REVERSE = Move("reverse", ("succeeded", "reconciled"), ("reversed",))

MOVES: tuple[Move, ...] = (
    RESOLVE, CANCEL, CLAIM, HOLD_AT_CLAIM, SUCCEED, FAIL, LOSE_TRACK, REQUEUE, GIVE_UP,
    RELEASE_HOLD, EXPIRE_HOLD, HOLD_DECEASED, RECONCILE, RECONCILE_REVIEWED, REVIEW, REVERSE,
)  # fmt: skip
