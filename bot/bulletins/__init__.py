"""Bulletins: written and spoken news per language, sent to an audience through a crash-safe outbox."""
