"""lurewatch: screen professional-network approaches for covert state recruitment."""

__version__ = "0.1.0"
