"""officine-cyber: cyber-hygiene audits for French community pharmacies."""

__version__ = "0.1.0"
