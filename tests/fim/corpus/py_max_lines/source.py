PRIMES = [
    2,
    3,
    █
]
