"""The incident assistant: runbook, isolation, evidence, tamper-evident journal, breach register."""
