"""Service layer shared by the CLI (and later the web app and the PDF report)."""
