"""Request body limits: small by default, larger only on the routes that take a file.

A limit is checked against ``Content-Length`` before anything is read and against the bytes
as they arrive (Litestar's ``request_max_body_size``, resolved per route); an oversized body
is 413 ``payload-too-large`` before any of it is buffered. Before, every route accepted
200 MiB, the public ones and the provider callback included (which read 50 MB before
checking the signature).
"""

from __future__ import annotations

__all__ = ["CALLBACK", "DEFAULT", "FILE"]

#: Every JSON route: sign-in, registration, documents, presentations, forms.
DEFAULT = 64 * 1024
#: A provider's signed callback: up to 1,000 events in one request.
CALLBACK = 1024 * 1024
#: Uploaded files (enrolment CSV, provider statements, bulk issuing), for authorised officers only.
FILE = 200 * 1024 * 1024
