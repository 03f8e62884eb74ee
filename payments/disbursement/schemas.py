"""Request and response bodies of the disbursement API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

__all__ = [
    "BatchApproval",
    "BatchIn",
    "BatchOut",
    "EnrolmentOut",
    "MyPayment",
    "ProgrammeIn",
    "ProgrammeOut",
    "ReconciliationIn",
    "ReconciliationOut",
    "RuleEnrolmentIn",
    "StateTotal",
]

Province = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{3}$")]
Dong = Annotated[int, msgspec.Meta(gt=0, le=10**15)]
#: How many payments a batch holds (a bigint column; far more than a country has people).
ControlCount = Annotated[int, msgspec.Meta(gt=0, le=10**9)]


class ProgrammeIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    legal_basis: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    budget: Dong
    schedule: Literal["one_off", "monthly"]
    #: Every beneficiary gets this amount; omit it to take the amount from each enrolment row.
    fixed_amount: Dong | None = None
    provinces: list[Province] = msgspec.field(default_factory=list)
    hold_days: Annotated[int, msgspec.Meta(ge=1, le=365)] = 30


class ProgrammeOut(msgspec.Struct):
    id: str
    org_id: str
    name: str
    legal_basis: str
    budget: int
    schedule: str
    amount_mode: str
    fixed_amount: int | None
    provinces: list[str]
    hold_days: int
    beneficiaries: int
    ledger: dict[str, int]
    created_at: datetime


class EnrolmentOut(msgspec.Struct):
    id: str
    programme_id: str
    source: str
    rows: int
    accepted: int
    rejected: int
    without_wallet: int
    rejected_by_reason: dict[str, int]
    report_url: str | None
    seconds: float


class RuleEnrolmentIn(msgspec.Struct, forbid_unknown_fields=True):
    """Enrol residents straight from the registry, e.g. everyone aged 80 or more in a province."""

    provinces: Annotated[list[Province], msgspec.Meta(min_length=1)]
    min_age: Annotated[int, msgspec.Meta(ge=0, le=150)] = 0
    max_age: Annotated[int, msgspec.Meta(ge=0, le=150)] | None = None


class BatchIn(msgspec.Struct, forbid_unknown_fields=True):
    #: 'once' for a one-off programme, 'YYYY-MM' for a monthly one.
    cycle: Annotated[str, msgspec.Meta(pattern=r"^(once|[0-9]{4}-(0[1-9]|1[0-2]))$")]
    control_count: ControlCount
    control_sum: Dong


class BatchApproval(msgspec.Struct, forbid_unknown_fields=True):
    """The checker confirms the totals they were given independently of the maker."""

    control_count: ControlCount
    control_sum: Dong


class StateTotal(msgspec.Struct):
    state: str
    count: int
    amount: int


class BatchOut(msgspec.Struct):
    id: str
    programme_id: str
    cycle: str
    state: str
    control_count: int
    control_sum: int
    maker: str
    checker: str | None
    created_at: datetime
    approved_at: datetime | None
    released_at: datetime | None
    cancelled_at: datetime | None
    progress: list[StateTotal]


class MyPayment(msgspec.Struct):
    id: str
    programme_name: str
    cycle: str
    amount: int
    state: str
    hold_reason: str | None
    hold_until: datetime | None
    provider: str | None
    updated_at: datetime


class ReconciliationIn(msgspec.Struct, forbid_unknown_fields=True):
    provider: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9_-]{1,40}$")]
    day: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]


class ReconciliationOut(msgspec.Struct):
    id: str
    provider: str
    day: str
    lines: int
    #: False for a day not yet over: a partial statement, nothing is missing from it yet.
    complete: bool
    #: Earlier imports of the same provider and day that this one replaces.
    supersedes: list[str]
    counts: dict[str, int]
    created_at: datetime
