"""Accounts: who a person is and their own settings."""
