"""Admin accounts, their roles and commune scope, login throttling and the audit log."""
