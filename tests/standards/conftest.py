"""Fixtures of the whole-chain tests: the documents tests' organisations and citizens, the verifier
service's bank, the authorization code tests' trusted wallet provider and the notifications consumer."""

from tests.documents.conftest import holder, issuer, make_citizen, make_org, verifier
from tests.notifications.conftest import consume, worker
from tests.oid4vci_authorization.conftest import provider, trusting
from tests.openid4vp.conftest import bank, held

__all__ = [
    "bank",
    "consume",
    "held",
    "holder",
    "issuer",
    "make_citizen",
    "make_org",
    "provider",
    "trusting",
    "verifier",
    "worker",
]
