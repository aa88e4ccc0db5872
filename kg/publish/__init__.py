"""Publishing: the SHACL gate, then store, dumps and their description written in one step."""
