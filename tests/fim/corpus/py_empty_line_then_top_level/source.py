import math


def norm(v):
    return math.sqrt(sum(x * x for x in v))


def norm2(v):
    s = sum(x * x for x in v)
█
    return s
