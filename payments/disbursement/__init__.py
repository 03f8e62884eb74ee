"""Disbursement of the payments domain."""
