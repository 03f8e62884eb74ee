"""Properties of the pushed-request reader: whatever a wallet sends, it is refused in OAuth's
words or read into a request we can honour — never an exception of another kind."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from hypothesis import given
from hypothesis import strategies as st

from openid4vci.authorization.requests import read_pushed_request
from openid4vci.errors import ProtocolError

ISSUER = "http://testserver"
_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
_VALID = {
    "client_id": "https://wallet.example",
    "response_type": "code",
    "redirect_uri": "https://wallet.example/cb",
    "code_challenge": _CHALLENGE,
    "code_challenge_method": "S256",
    "scope": "driving_licence_sd_jwt",
}
_OAUTH_ERRORS = {
    "invalid_request",
    "invalid_scope",
    "invalid_target",
    "invalid_authorization_details",
    "unsupported_response_type",
    "request_not_supported",
}
_NAMES = [*_VALID, "authorization_details", "state", "issuer_state", "resource", "request_uri", "dpop_jkt"]
_VALUES = st.one_of(
    st.sampled_from([*_VALID.values(), "plain", "token", "javascript:alert(1)", "http://evil.example/", "[]", "{}"]),
    st.text(max_size=60),
    st.lists(st.fixed_dictionaries({"type": st.text(max_size=20)}), max_size=2).map(json.dumps),
)


@given(changes=st.dictionaries(st.sampled_from(_NAMES), _VALUES | st.none(), max_size=4))
def test_any_request_is_read_or_refused_in_oauth_words(changes: dict[str, str | None]) -> None:
    form = {k: v for k, v in {**_VALID, **changes}.items() if v is not None}
    refusal: ProtocolError | None = None
    try:
        request = read_pushed_request(form, issuer=ISSUER)
    except ProtocolError as exc:
        refusal = exc
    if refusal is not None:
        assert refusal.error in _OAUTH_ERRORS
        return
    # What is accepted is what the flow can honour.
    assert form["response_type"] == "code" and form["code_challenge_method"] == "S256"
    assert len(request.code_challenge) == 43 and request.requested
    redirect = urlsplit(request.redirect_uri)
    assert not redirect.fragment
    assert (
        redirect.scheme == "https" or redirect.hostname in {"127.0.0.1", "localhost", "::1"} or "." in redirect.scheme
    )
