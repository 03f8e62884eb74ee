"""Gateways to the outside world for messages: SMS now; push adapters live beside it."""
