"""Screens for the people who are not the app: the verifier web app and the agency consoles.

Server-rendered pages (Jinja2) over the same domain functions as the API, signed in with an
officer's own credentials; see docs/consoles.md.
"""
