import math


def norm(v):
    return math.sqrt(sum(x * x for x in v))


█