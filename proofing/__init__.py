"""Identity proofing: chip (NFC) + face in the app, recovery of a squatted identity."""
