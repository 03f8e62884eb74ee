"""What the proofing domain contributes: level 2 by chip + face, recovery of a squatted identity."""

from proofing import recovery, routes
from proofing.cli import proofing_group
from proofing.face import FACE_MATCHER
from proofing.seed import seed_chip_trust
from wallet_api.kernel import Domain

__all__ = ["DOMAIN"]

DOMAIN = Domain(
    name="proofing",
    routes=[*routes.ROUTES, *recovery.ROUTES],
    services=[FACE_MATCHER],
    commands=[proofing_group],
    seeders=[seed_chip_trust],
)
