"""Who is calling: principals, access tokens, and the guards every route declares.

Three kinds of principal call the API:

* ``citizen``: a person signed in from a bound device (account id, identification level,
  device id); never their ID number.
* ``officer``: a person working for an organisation (police, welfare agency), with roles.
* ``client``: an organisation's system calling with OAuth2 client credentials, with scopes.
"""

from wallet_api.auth.guards import (
    PUBLIC,
    any_authenticated,
    citizen,
    citizen_level,
    client_with_scope,
    officer_with_role,
    principal_of,
)
from wallet_api.auth.principal import Principal
from wallet_api.auth.tokens import TokenService

__all__ = [
    "PUBLIC",
    "Principal",
    "TokenService",
    "any_authenticated",
    "citizen",
    "citizen_level",
    "client_with_scope",
    "officer_with_role",
    "principal_of",
]
