"""Payment events have one home (payments/events.py): what publishers build, consumers read back."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from pathlib import Path

from notifications.consumer import CONSUMER_NAME
from notifications.events import notice_from_event
from payments import events
from payments.disbursement.holds import WALLET_CHANGES
from payments.linking.flow import LINKING_CONSUMER
from wallet_api.outbox import consumers_for

PAYMENTS = Path(events.__file__).resolve().parent
_TOPICS = (
    events.PAYMENT_SUCCEEDED,
    events.PAYMENT_HELD,
    events.WALLET_LINK_STATE,
    events.WALLET_PAYOUT_CHANGED,
    events.LINK_REQUESTED,
    events.LINK_OTP_SUBMITTED,
    events.ACCOUNT_LEVEL_RAISED,
)
_TOPIC = re.compile("|".join(f"[\"']{re.escape(t)}[\"']" for t in _TOPICS))


def test_no_module_but_the_events_module_spells_a_payment_topic() -> None:
    spelled = [
        f"{path.relative_to(PAYMENTS.parent)}:{n}: {line.strip()}"
        for path in sorted(PAYMENTS.rglob("*.py"))
        if path != Path(events.__file__).resolve()
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if _TOPIC.search(line)
    ]
    assert spelled == []


def _link_row(account: uuid.UUID, link: uuid.UUID, state: str, refusal: str | None) -> dict[str, object]:
    """A ``wallet_links`` row as the linking store reads it."""
    return {
        "account_id": account,
        "id": link,
        "provider": "momo",
        "state": state,
        "refusal_reason": refusal,
        "payout_hold_until": datetime(2026, 12, 3, tzinfo=UTC),
    }


def test_events_about_a_citizen_are_keyed_by_their_account() -> None:
    account, payment, link = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    row = _link_row(account, link, "active", None)
    built = [
        events.payment_succeeded(account, payment, 500_000, "Trợ cấp"),
        events.payment_held(account, payment, 500_000, "Trợ cấp", "no_wallet", datetime(2026, 12, 3, tzinfo=UTC)),
        events.wallet_link_state(row),
        events.wallet_payout_changed(row),
    ]
    for key, payload in built:
        assert key == str(account)
        assert events.account_of(payload) == account
    assert built[1][1]["hold_until"] == "2026-12-03T00:00:00+00:00"
    assert built[3][1]["hold_until"] == "2026-12-03T00:00:00+00:00"
    assert events.wallet_payout_changed({**row, "payout_hold_until": None})[1]["hold_until"] is None


def test_the_linking_worker_reads_back_what_the_api_asks_of_it() -> None:
    link = uuid.uuid4()
    assert events.read_link_call(events.link_call(link, "zalopay")) == events.LinkCall(link, "zalopay")
    assert events.account_of({"level": 2}) is None


def test_each_payment_topic_reaches_the_consumers_the_events_module_names() -> None:
    inbox, holds, linking = CONSUMER_NAME, WALLET_CHANGES.name, LINKING_CONSUMER.name
    expected = {
        events.PAYMENT_SUCCEEDED: {inbox},
        events.PAYMENT_HELD: {inbox},
        events.WALLET_LINK_STATE: {inbox, holds},
        events.WALLET_PAYOUT_CHANGED: {inbox, holds},
        events.LINK_REQUESTED: {linking},
        events.LINK_OTP_SUBMITTED: {linking},
    }
    assert {topic: set(consumers_for(topic)) for topic in expected} == expected
    assert holds in consumers_for(events.ACCOUNT_LEVEL_RAISED)


def test_the_inbox_reads_what_payments_publish() -> None:
    account, payment, link = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    row = _link_row(account, link, "refused", "name_mismatch")
    published = {
        events.PAYMENT_SUCCEEDED: (events.payment_succeeded(account, payment, 500_000, "Trợ cấp"), str(payment)),
        events.PAYMENT_HELD: (
            events.payment_held(account, payment, 500_000, "Trợ cấp", "no_wallet", datetime(2026, 12, 4, tzinfo=UTC)),
            str(payment),
        ),
        events.WALLET_LINK_STATE: (events.wallet_link_state(row), str(link)),
        events.WALLET_PAYOUT_CHANGED: (events.wallet_payout_changed(row), str(link)),
    }
    for topic, ((_, payload), refers_to) in published.items():
        notice = notice_from_event(1, topic, payload)
        assert notice is not None, topic
        assert (notice.account_id, notice.ref_id) == (account, refers_to), topic
        assert notice.params and all(payload[k] == v for k, v in notice.params.items()), topic
