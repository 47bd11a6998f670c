"""The one exception type the library raises for bad input or a failed run."""


class SpotlightError(ValueError):
    """Bad input or a run that cannot continue; the message is one line naming the problem."""
