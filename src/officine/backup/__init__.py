"""The backup guardian: plans, runs and proves backups through restic (never our own engine)."""
