"""The store layer: the only code that reads git objects and files, handing out bytes."""
