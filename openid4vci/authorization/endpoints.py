"""Where the authorization code flow's endpoints are and what its grant is called (imported by
the metadata, which the flow's own modules import in turn: so this module imports nothing)."""

from __future__ import annotations

__all__ = ["AUTHORIZATION_CODE_GRANT", "AUTHORIZE_PATH", "PAR_PATH"]

PAR_PATH = "/openid4vci/par"
AUTHORIZE_PATH = "/openid4vci/authorize"
AUTHORIZATION_CODE_GRANT = "authorization_code"
