import math


def norm(v):
    """Euclidean length of v."""
    return math.sqrt(sum(x * x for x in v))


def norm2(v):
    """Squared length of v, without the square root."""
    █