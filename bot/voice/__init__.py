"""Speech sent to people as voice notes: answers read aloud on request, cached by text and language."""
