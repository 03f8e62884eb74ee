"""Verifiable documents: issuing, SD-JWT VC credentials, status lists, QR presentation, verification.

Vocabulary: a *document* is what an agency issued (a driving licence, a vehicle
registration); a *credential* is one SD-JWT VC minted from a document version for one
device; a *presentation* is what the holder shows (an online code or an offline QR payload).
"""
