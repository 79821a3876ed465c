"""Values shared by the attack suite's fixtures and tests."""

SECRET = "sk-s3cr3t/+=\"k3y'~0123456789"  # printable ASCII, but JSON, repr and percent-encoding each change it
OTHER_KEY = "gm-other-key-5555"
CREDENTIAL_HEADERS = ("authorization", "x-api-key", "api-key", "x-goog-api-key", "proxy-authorization")
