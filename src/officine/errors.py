"""Errors that reach a person: always a French message, always exit code 2."""


class UserError(Exception):
    """Bad input or environment. `message` is plain French and says what to do."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
