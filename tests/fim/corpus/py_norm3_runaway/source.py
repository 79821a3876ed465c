import math


def norm(v):
    return math.sqrt(sum(x * x for x in v))


def norm2(v):
    █


def dot(a, b):
    return sum(x * y for x, y in zip(a, b))
