"""Linking of the payments domain."""
