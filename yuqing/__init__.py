"""yuqing: public-opinion monitoring and alerts for the Women's Federation system."""

__version__ = "0.1.0"
