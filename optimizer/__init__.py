"""FieldRoute: route and appointment optimizer for teams of field agents."""

__version__ = "0.1.0"
