"""Disbursement of the payments domain."""

#: Seconds one set-wise statement over a whole file, batch or statement may run. The pool's
#: default command timeout (60 s) suits requests; a million-row batch needs longer.
BULK_TIMEOUT = 1800.0
