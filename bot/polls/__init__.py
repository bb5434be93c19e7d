"""Polls ("Thăm dò ý kiến"): questions to an audience, answered in the chat, results by place and group."""
