TOKEN = "not-a-real-token"  # looks secret by its name: never read by bench
