"""Durable jobs: slow work (speech, transcoding) queued in the database, claimed, retried, resumed."""
