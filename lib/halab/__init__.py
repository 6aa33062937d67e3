"""halab: prove that an HA cluster fails over the way its design says, in the time its design says."""

__version__ = "0.1.0"
