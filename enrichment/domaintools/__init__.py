"""DomainTools: the signed HTTP client (quota and credential answers) and the answers' parsing."""
