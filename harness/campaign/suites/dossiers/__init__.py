"""The `dossiers` suite: the archive mode (mode dossier) over the ASP's deposit server."""
