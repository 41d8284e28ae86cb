"""The ransomware sentinel: watch data folders, see mass encryption start, suspend it, start the reflexes."""
