"""The pure core: models, rules, hashing and policy. Never touches git, files, network or click."""
