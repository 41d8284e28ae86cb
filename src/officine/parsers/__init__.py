"""Pure parsers of raw observations. No I/O; never raise on odd input except ParseError."""


class ParseError(ValueError):
    """The text does not have the expected shape."""
