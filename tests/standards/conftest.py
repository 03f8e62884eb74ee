"""Fixtures of the whole-chain tests: the documents tests' organisations and citizens, the verifier
service's bank, and the authorization code tests' trusted wallet provider."""

from tests.documents.conftest import holder, issuer, make_citizen, make_org, verifier
from tests.oid4vci_authorization.conftest import provider, trusting
from tests.openid4vp.conftest import bank, held

__all__ = ["bank", "held", "holder", "issuer", "make_citizen", "make_org", "provider", "trusting", "verifier"]
