"""The command line: thin commands that parse arguments, call the API and report."""
