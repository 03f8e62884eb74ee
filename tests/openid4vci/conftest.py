"""Fixtures of the OpenID4VCI tests: the documents tests' organisations and citizens."""

from tests.documents.conftest import holder, issuer, make_citizen, make_org

__all__ = ["holder", "issuer", "make_citizen", "make_org"]
