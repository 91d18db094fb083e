"""The signed index, I/O side: keys, the DSSE envelope, and compiling a registry to a file."""
