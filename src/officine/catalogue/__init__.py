"""The measures catalogue: practices, measures, questions and their French words."""

from officine.catalogue.loader import Messages, load_catalogue, load_messages
from officine.catalogue.model import Catalogue, Measure, Practice, Question, Severity, Verdict

__all__ = [
    "Catalogue",
    "Measure",
    "Messages",
    "Practice",
    "Question",
    "Severity",
    "Verdict",
    "load_catalogue",
    "load_messages",
]
