def running_total(xs):
    s = 0
    for x in xs:
        █
    return s
