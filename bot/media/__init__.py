"""Stored files (voice notes, station MP3s, pictures) and their platform upload ids."""
