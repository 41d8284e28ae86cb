"""macOS collectors (commands whose output is English whatever the user's language)."""
