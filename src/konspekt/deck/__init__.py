"""The Anki deck."""
