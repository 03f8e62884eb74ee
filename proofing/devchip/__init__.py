"""Development and test chip material: a CSCA, Document Signers, CRLs and chip ID cards.

Lives in the production package so that ``wallet dev`` can make a development trust list
and ``wallet proofing phone-upload`` can play the phone of a demo citizen; tests make
their own with the same functions. Nothing here is trusted unless its CSCA is put in the
trust list, which only development does.
"""

from proofing.devchip.chips import Chip, Holder, make_chip, sign_sod
from proofing.devchip.faces import portrait, selfie
from proofing.devchip.pki import Authority, make_crl, make_csca, make_signer

__all__ = [
    "Authority",
    "Chip",
    "Holder",
    "make_chip",
    "make_crl",
    "make_csca",
    "make_signer",
    "portrait",
    "selfie",
    "sign_sod",
]
