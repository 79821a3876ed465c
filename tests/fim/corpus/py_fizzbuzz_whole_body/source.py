def fizzbuzz(n):
    █


if __name__ == "__main__":
    fizzbuzz(15)
