"""gateway: secure, federated exchange of counter-trafficking notices between states."""

__version__ = "0.1.0"
__all__ = ["__version__"]
