"""The one version of modec: a leaf module, so nothing imports the facade to learn it."""

__version__ = "0.1.0"
