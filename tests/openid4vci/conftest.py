"""Fixtures of the OpenID4VCI tests: the documents tests' organisations and citizens, the
notifications consumer."""

from tests.documents.conftest import holder, issuer, make_citizen, make_org
from tests.notifications.conftest import consume, worker

__all__ = ["consume", "holder", "issuer", "make_citizen", "make_org", "worker"]
