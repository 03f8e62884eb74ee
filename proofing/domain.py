"""What the proofing domain contributes: level 2 by chip + face, recovery of a squatted identity."""

from proofing import recovery, routes
from wallet_api.domains import Domain

__all__ = ["DOMAIN"]

DOMAIN = Domain(name="proofing", routes=[*routes.ROUTES, *recovery.ROUTES])
