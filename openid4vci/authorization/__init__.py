"""The authorization code flow of the credential issuer: PAR (``par.py``), the authorization
page (``page.py``), the citizen's approval in the app (``approvals.py``) and the
``authorization_code`` grant (``grant.py``); ``routes.py`` gathers what the domain declares.
docs/standards.md draws the flow."""
