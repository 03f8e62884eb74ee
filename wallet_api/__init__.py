"""Citizen Wallet API: the application, configuration, accounts and authentication, CLI."""
