"""Stand-ins for the ASP side: the callback API, the OIDC issuer, the SMTP catcher."""
