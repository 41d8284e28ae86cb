"""Windows: what to observe (manifest.yaml), the PowerShell collector that records it, and (to come)
the parsers that turn those observations into the same facts as on Linux."""
