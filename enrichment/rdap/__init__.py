"""RDAP: IANA's bootstrap (shipped in data/, refreshable) and the parsing of RDAP answers."""
